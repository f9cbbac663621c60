// Kubernetes resource quantities ("100m", "64Mi", "1e3", "0.5") parsed and compared exactly as apimachinery does.

/**
 * An exact quantity: `coefficient × 10^exponent`. Kubernetes keeps some values exact (the "fast path": at most 18
 * digits and no finer than nano) and rounds the rest up to a whole nano, capped at 2^63-1; so do we.
 */
export interface Quantity {
  readonly coefficient: bigint;
  readonly exponent: number;
  /** The text it was parsed from, for messages. */
  readonly text: string;
}

/** Thrown for text Kubernetes would refuse; the message says what is wrong with it. */
export class QuantityError extends Error {
  override name = 'QuantityError';
}

const DECIMAL_SUFFIXES: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIXES: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const SUFFIX_CHARS = 'eEinumkKMGTP';
const MAX_INT64 = (1n << 63n) - 1n;
const NANO = -9;

interface Parts {
  positive: boolean;
  num: string;
  denom: string;
  suffix: string;
}

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

/** Splits text the way apimachinery's parseQuantityString does, quirks included ("1." and "+" are accepted). */
function split(text: string): Parts {
  let pos = 0;
  let positive = true;
  if (text[0] === '+' || text[0] === '-') {
    positive = text[0] === '+';
    pos++;
  }
  while (text[pos] === '0') pos++;
  if (pos >= text.length) return { positive, num: '0', denom: '', suffix: '' };
  const numStart = pos;
  while (isDigit(text[pos])) pos++;
  const num = text.slice(numStart, pos) || '0';
  let denom = '';
  if (text[pos] === '.') {
    const denomStart = ++pos;
    while (isDigit(text[pos])) pos++;
    denom = text.slice(denomStart, pos);
  }
  const suffixStart = pos;
  while (pos < text.length && SUFFIX_CHARS.includes(text[pos] as string)) pos++;
  if (text[pos] === '+' || text[pos] === '-') pos++;
  while (isDigit(text[pos])) pos++;
  if (pos < text.length) throw new QuantityError(`"${text}" is not a quantity: unexpected "${text.slice(pos)}"`);
  return { positive, num, denom, suffix: text.slice(suffixStart) };
}

/** Base and exponent of a suffix, or an error for suffixes Kubernetes does not know (e.g. "K", "mi"). */
function interpret(suffix: string, text: string): { base: 2 | 10; exponent: number } {
  const decimal = DECIMAL_SUFFIXES[suffix];
  if (decimal !== undefined) return { base: 10, exponent: decimal };
  const binary = BINARY_SUFFIXES[suffix];
  if (binary !== undefined) return { base: 2, exponent: binary };
  if (suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E') && /^[+-]?\d+$/.test(suffix.slice(1))) {
    const parsed = BigInt(suffix.slice(1));
    // Go parses an int64 and converts it to int32; values beyond int64 are a parse error there too.
    if (parsed > MAX_INT64 || parsed < -MAX_INT64 - 1n)
      throw new QuantityError(`"${text}" has an exponent out of range`);
    return { base: 10, exponent: Number(BigInt.asIntN(32, parsed)) };
  }
  throw new QuantityError(`"${text}" has an unknown unit "${suffix}" (use n, u, m, k, M, G, T, P, E, Ki, Mi, Gi, …)`);
}

const digitCount = (n: bigint) => (n === 0n ? 0 : (n < 0n ? -n : n).toString().length);

/** Rounds a non-negative `coefficient × 10^exponent` up to a whole nano and caps it at 2^63-1 (the "slow path"). */
function roundAndCap(coefficient: bigint, exponent: number): { coefficient: bigint; exponent: number } {
  if (coefficient === 0n) return { coefficient: 0n, exponent: 0 };
  // Anything with more than 19 integer digits is above the cap; decide before building huge powers of ten.
  if (digitCount(coefficient) + exponent > 19) return { coefficient: MAX_INT64, exponent: 0 };
  let nanos: bigint;
  if (exponent >= NANO) {
    nanos = coefficient * 10n ** BigInt(exponent - NANO);
  } else if (digitCount(coefficient) + exponent <= NANO) {
    nanos = 1n; // a positive amount below one nano: Kubernetes gives you the smallest non-zero amount
  } else {
    const divisor = 10n ** BigInt(NANO - exponent);
    nanos = (coefficient + divisor - 1n) / divisor;
  }
  if (nanos > MAX_INT64 * 10n ** 9n) return { coefficient: MAX_INT64, exponent: 0 };
  return { coefficient: nanos, exponent: NANO };
}

/** Parses a quantity as the API server does, or throws `QuantityError`. */
export function parseQuantity(text: string): Quantity {
  if (text.length === 0) throw new QuantityError('a quantity cannot be empty');
  const { positive, num, denom, suffix } = split(text);
  const { base, exponent } = interpret(suffix, text);
  const digits = BigInt(num + denom);
  const sign = positive ? 1n : -1n;
  let coefficient: bigint;
  let scale: number;
  let fast: boolean;
  if (base === 10) {
    coefficient = digits;
    scale = exponent - denom.length;
    // apimachinery keeps values of at most 18 digits and no finer than nano exactly, however large the exponent.
    fast = 18 - num.length - denom.length >= 0 && scale >= NANO;
  } else {
    // Binary units: 2^exponent times the decimal value; exact whenever it fits in an int64.
    const power = 1n << BigInt(exponent);
    coefficient = digits * power;
    scale = -denom.length;
    const precision = 15 - num.length - Math.trunc((exponent * 3) / 10) - 1;
    fast = denom.length === 0 && precision >= 0 && coefficient <= MAX_INT64;
  }
  if (fast) return { coefficient: sign * coefficient, exponent: scale, text };
  const rounded = roundAndCap(coefficient, scale);
  return { coefficient: sign * rounded.coefficient, exponent: rounded.exponent, text };
}

/** Parses without throwing: `undefined` for text Kubernetes would refuse. */
export function tryParseQuantity(text: string): Quantity | undefined {
  try {
    return parseQuantity(text);
  } catch (error) {
    if (error instanceof QuantityError) return undefined;
    throw error;
  }
}

/** -1, 0 or 1 as `a` is less than, equal to or greater than `b`, compared exactly whatever the units. */
export function compareQuantities(a: Quantity | string, b: Quantity | string): -1 | 0 | 1 {
  const x = typeof a === 'string' ? parseQuantity(a) : a;
  const y = typeof b === 'string' ? parseQuantity(b) : b;
  const sx = x.coefficient > 0n ? 1 : x.coefficient < 0n ? -1 : 0;
  const sy = y.coefficient > 0n ? 1 : y.coefficient < 0n ? -1 : 0;
  if (sx !== sy || sx === 0) return sx < sy ? -1 : sx > sy ? 1 : 0;
  // Same sign, both non-zero: compare magnitudes, first by order of magnitude so huge exponents stay cheap.
  const mx = x.coefficient < 0n ? -x.coefficient : x.coefficient;
  const my = y.coefficient < 0n ? -y.coefficient : y.coefficient;
  const ox = digitCount(mx) + x.exponent;
  const oy = digitCount(my) + y.exponent;
  let magnitude: -1 | 0 | 1;
  if (ox !== oy) {
    magnitude = ox < oy ? -1 : 1;
  } else {
    const low = Math.min(x.exponent, y.exponent);
    // Same order of magnitude, so the shift is at most the longer coefficient's length.
    const ax = mx * 10n ** BigInt(x.exponent - low);
    const ay = my * 10n ** BigInt(y.exponent - low);
    magnitude = ax < ay ? -1 : ax > ay ? 1 : 0;
  }
  return sx > 0 ? magnitude : ((-magnitude || 0) as -1 | 0 | 1);
}

/** The value as a JavaScript number (approximate for huge or very precise values), e.g. for showing "0.1 CPU". */
export function quantityToNumber(q: Quantity): number {
  return Number(q.coefficient) * 10 ** q.exponent;
}
