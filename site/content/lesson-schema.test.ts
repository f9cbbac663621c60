import { describe, expect, it } from 'vitest';
import { lessonSchema } from './lesson-schema.ts';

const valid = {
  title: 'Logging sidecar',
  order: 5,
  seedSection: '5.1 Logging Sidecar',
  objectives: ['Share a volume between two containers'],
  minutes: 15,
  exercises: ['logging-sidecar'],
};

describe('lessonSchema', () => {
  it('accepts a complete lesson and defaults exercises to none', () => {
    expect(lessonSchema.parse(valid)).toEqual(valid);
    const { exercises: _omitted, ...withoutExercises } = valid;
    expect(lessonSchema.parse(withoutExercises).exercises).toEqual([]);
  });

  it.each([
    ['title', { title: '' }],
    ['order', { order: 0 }],
    ['order', { order: 1.5 }],
    ['objectives', { objectives: [] }],
    ['minutes', { minutes: 500 }],
    ['exercises', { exercises: ['Logging Sidecar'] }],
  ])('rejects a bad %s and names it', (field, patch) => {
    const result = lessonSchema.safeParse({ ...valid, ...patch });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path[0]).toBe(field);
  });

  it('rejects unknown fields so typos do not pass silently', () => {
    const result = lessonSchema.safeParse({ ...valid, minuts: 3 });
    expect(result.success).toBe(false);
  });
});
