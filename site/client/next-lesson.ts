// Where a learner should continue: the first lesson, in course order, not yet read or with an exercise not passed.

export interface LessonEntry {
  id: string;
  exercises: string[];
}

export interface LessonProgress {
  read: boolean;
  passed: number;
  complete: boolean;
}

/** Read and passed counts of one lesson, from the learner's record. */
export function lessonProgress(
  lesson: LessonEntry,
  record: { lessonsRead: string[]; exercisesPassed: string[] },
): LessonProgress {
  const read = record.lessonsRead.includes(lesson.id);
  const passed = lesson.exercises.filter((e) => record.exercisesPassed.includes(e)).length;
  return { read, passed, complete: read && passed === lesson.exercises.length };
}

/**
 * The lesson to continue with, and whether the learner has started at all; undefined when every lesson is complete.
 */
export function nextLesson(
  lessons: LessonEntry[],
  record: { lessonsRead: string[]; exercisesPassed: string[] },
): { lesson: LessonEntry; started: boolean } | undefined {
  const started = record.lessonsRead.length > 0 || record.exercisesPassed.length > 0;
  const lesson = lessons.find((l) => !lessonProgress(l, record).complete);
  return lesson ? { lesson, started } : undefined;
}
