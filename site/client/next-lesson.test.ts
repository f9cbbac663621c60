// Where the home page says to continue.
import { describe, expect, it } from 'vitest';
import { lessonProgress, nextLesson } from './next-lesson.ts';

const lessons = [
  { id: 'introduction', exercises: [] },
  { id: 'first-sidecar', exercises: ['first-sidecar'] },
  { id: 'logging', exercises: ['logging-sidecar', 'readiness-probes'] },
];

describe('nextLesson', () => {
  it('starts at the first lesson for a new learner', () => {
    expect(nextLesson(lessons, { lessonsRead: [], exercisesPassed: [] })).toEqual({
      lesson: lessons[0],
      started: false,
    });
  });

  it('continues at the first lesson not read or with an exercise still to pass', () => {
    const record = { lessonsRead: ['introduction', 'first-sidecar'], exercisesPassed: [] };
    expect(nextLesson(lessons, record)).toEqual({ lesson: lessons[1], started: true });
    const later = { lessonsRead: ['introduction', 'first-sidecar'], exercisesPassed: ['first-sidecar'] };
    expect(nextLesson(lessons, later)?.lesson.id).toBe('logging');
  });

  it('says nothing is left when every lesson is read and every exercise passed', () => {
    const done = {
      lessonsRead: lessons.map((l) => l.id),
      exercisesPassed: ['first-sidecar', 'logging-sidecar', 'readiness-probes'],
    };
    expect(nextLesson(lessons, done)).toBeUndefined();
    expect(lessonProgress(lessons[2]!, done)).toEqual({ read: true, passed: 2, complete: true });
  });
});
