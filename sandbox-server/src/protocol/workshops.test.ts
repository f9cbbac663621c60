import { describe, expect, it } from 'vitest';
import { createWorkshopBody, displayName, joinWorkshopBody, parseDurationMinutes } from './workshops.ts';

describe('workshop durations', () => {
  it('read as people write them', () => {
    expect(parseDurationMinutes('2h')).toBe(120);
    expect(parseDurationMinutes('90m')).toBe(90);
    expect(parseDurationMinutes('90min')).toBe(90);
    expect(parseDurationMinutes('1h30m')).toBe(90);
    expect(parseDurationMinutes('1h 30m')).toBe(90);
    expect(parseDurationMinutes(' 45 ')).toBe(45);
    for (const bad of ['', 'h', '2 hours', '1.5h', '-5', '2d']) expect(parseDurationMinutes(bad), bad).toBeUndefined();
  });

  it('are bounded, with a message naming the field', () => {
    expect(createWorkshopBody.parse({ name: 'W', capacity: 3, duration: '2h' }).duration).toBe(120);
    expect(createWorkshopBody.safeParse({ name: 'W', capacity: 3, duration: '2m' }).success).toBe(false);
    const bad = createWorkshopBody.safeParse({ name: 'W', capacity: 3, duration: 'soon' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toContain('a duration such as');
  });
});

describe('display names', () => {
  it('are trimmed, collapsed and limited to visible characters', () => {
    expect(displayName.parse('  Ada   Lovelace ')).toBe('Ada Lovelace');
    expect(displayName.safeParse('   ').success).toBe(false);
    expect(displayName.safeParse('x'.repeat(41)).success).toBe(false);
    expect(displayName.safeParse('evil\u202Eoh').success).toBe(false);
    expect(displayName.safeParse('zero\u200Bwidth').success).toBe(false);
    expect(displayName.parse('<script>alert(1)</script>')).toBe('<script>alert(1)</script>'); // escaped on output
  });

  it('come with a code and nothing else', () => {
    expect(joinWorkshopBody.safeParse({ code: 'ABCD', name: 'Ada', admin: true }).success).toBe(false);
  });
});
