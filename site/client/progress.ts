// Progress: lessons read and exercises passed, from the server (per session) merged with localStorage (fallback).
import { call, segment, server } from './api.ts';
import { emit } from './bus.ts';
import { readItem, writeItem } from './storage.ts';

/** Lessons read and exercises passed (the shape of GET /api/progress). */
export interface Progress {
  lessonsRead: string[];
  exercisesPassed: string[];
}

const KEY = 'sidecar-lab:progress';

function readLocal(): Progress {
  try {
    const parsed = JSON.parse(readItem(KEY) ?? '{}') as Partial<Progress>;
    const strings = (value: unknown) =>
      Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
    return { lessonsRead: strings(parsed.lessonsRead), exercisesPassed: strings(parsed.exercisesPassed) };
  } catch {
    // A corrupt entry is not worth an error: start over from what the server knows.
    return { lessonsRead: [], exercisesPassed: [] };
  }
}

/** Union of two progress records, sorted so stored values are stable. */
export function mergeProgress(a: Progress, b: Progress): Progress {
  const union = (x: string[], y: string[]) => [...new Set([...x, ...y])].sort();
  return {
    lessonsRead: union(a.lessonsRead, b.lessonsRead),
    exercisesPassed: union(a.exercisesPassed, b.exercisesPassed),
  };
}

let current: Progress = readLocal();

function publish(next: Progress): void {
  current = next;
  writeItem(KEY, JSON.stringify(next));
  emit('sidecar-lab:progress', next);
}

export function progress(): Progress {
  return current;
}

/** Shows what this browser remembers at once, then adds what the server remembers for the session. */
export async function loadProgress(): Promise<Progress> {
  publish(current);
  try {
    publish(mergeProgress(current, await call(() => server.api.progress.$get())));
  } catch (error) {
    // Offline or an older server: localStorage alone keeps the sidebar useful.
    console.warn('sidecar-lab: progress from the server is unavailable; using this browser’s copy', error);
  }
  return current;
}

export async function markLessonRead(lesson: string): Promise<void> {
  if (!current.lessonsRead.includes(lesson))
    publish(mergeProgress(current, { lessonsRead: [lesson], exercisesPassed: [] }));
  try {
    await call(() => server.api.progress.lessons[':lesson'].$post({ param: { lesson: segment(lesson) } }));
  } catch (error) {
    console.warn(`sidecar-lab: could not save "${lesson}" as read on the server`, error);
  }
}

/** The server records passes itself when it runs checks; this keeps the local copy and the sidebar in step. */
export function markExercisePassed(exercise: string): void {
  if (current.exercisesPassed.includes(exercise)) return;
  publish(mergeProgress(current, { lessonsRead: [], exercisesPassed: [exercise] }));
}
