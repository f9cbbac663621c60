// Quantities compare as the API server compares them, whatever the unit; bad text is refused like kubectl refuses it.
import { describe, expect, it } from 'vitest';
import { compareQuantities, parseQuantity, QuantityError, quantityToNumber, tryParseQuantity } from './quantity.ts';

const eq = (a: string, b: string) => expect(compareQuantities(a, b), `${a} == ${b}`).toBe(0);
const lt = (a: string, b: string) => {
  expect(compareQuantities(a, b), `${a} < ${b}`).toBe(-1);
  expect(compareQuantities(b, a), `${b} > ${a}`).toBe(1);
};

describe('parseQuantity', () => {
  it('reads milli, plain and exponent forms of the same CPU amount', () => {
    eq('100m', '0.1');
    eq('100m', '1e-1');
    eq('1500m', '1.5');
    eq('1', '1000m');
    eq('2', '2000000000n');
    eq('1u', '1000n');
  });

  it('reads decimal and binary memory units', () => {
    eq('64Mi', '67108864');
    eq('1Ki', '1024');
    eq('1.5Gi', '1536Mi');
    eq('1k', '1000');
    eq('1M', '1e6');
    eq('1G', '1E9');
    eq('1T', '1e12');
    eq('1P', '1e15');
    eq('1E', '1e18');
    eq('0.5Ki', '512');
    lt('64M', '64Mi');
    lt('64Mi', '0.1Gi');
    lt('65M', '0.0625Gi'); // 0.0625Gi is 64Mi
    eq('0.0625Gi', '64Mi');
  });

  it('accepts signs, leading zeros and a trailing dot, as Kubernetes does', () => {
    eq('+1', '1');
    eq('007', '7');
    eq('1.', '1');
    eq('.5', '500m');
    lt('-1', '0');
    lt('-2Ki', '-1Ki');
    eq('-0', '0');
    eq('1e+3', '1k');
    eq('1e-3', '1m');
  });

  it('rounds values finer than a nano up to the next nano', () => {
    eq('0.0000000001', '1n');
    eq('1e-12', '1n');
    eq('1.0000000001', '1000000001n');
    eq('0.5n', '1n');
    lt('0', '0.0000000000001');
    eq('-0.5n', '-1n'); // rounding is away from zero, as inf.RoundUp on the magnitude
  });

  it('caps slow-path values at 2^63-1 but keeps short large ones exact', () => {
    eq('8Ei', '9223372036854775807');
    eq('9223372036854775807999', '9223372036854775807');
    lt('7Ei', '8Ei');
    eq('7Ei', `${7n * 2n ** 60n}`);
    lt('9223372036854775807', '1e100'); // 1e100 is a short number: exact, not capped
    lt('1e100', '1e101');
  });

  it('compares huge and tiny exponents without building huge numbers', () => {
    lt('1e2000000', '2e2000000');
    eq('10e2000000', '1e2000001');
  });

  it('refuses text Kubernetes refuses', () => {
    for (const bad of ['', '1K', '1mi', 'abc', '1e', '1.5.5', '1 m', '1Ki5', '1m5', '1ee5', '12Gb', '0x10', '1e1.5']) {
      expect(() => parseQuantity(bad), JSON.stringify(bad)).toThrow(QuantityError);
      expect(tryParseQuantity(bad)).toBeUndefined();
    }
  });

  it('keeps the quirks of the upstream parser (a lone unit or sign is zero)', () => {
    eq('m', '0');
    eq('+', '0');
  });

  it('says what is wrong in the error', () => {
    expect(() => parseQuantity('64mi')).toThrow(/unknown unit "mi"/);
    expect(() => parseQuantity('64MB')).toThrow(/not a quantity: unexpected "B"/);
  });

  it('converts to a number for display', () => {
    expect(quantityToNumber(parseQuantity('250m'))).toBeCloseTo(0.25);
    expect(quantityToNumber(parseQuantity('64Mi'))).toBe(67108864);
  });
});
