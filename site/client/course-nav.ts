// The course sidebar: progress marks per lesson, the lesson marked read once its end is reached, and the collapsible
// lesson list on screens too narrow for a sidebar.
import { on } from './bus.ts';
import { loadProgress, markLessonRead, type Progress } from './progress.ts';

const nav = document.querySelector<HTMLElement>('[data-course-nav]');

function render(progress: Progress): void {
  if (!nav) return;
  const read = new Set(progress.lessonsRead);
  const passed = new Set(progress.exercisesPassed);
  let lessonsRead = 0;
  let exercisesTotal = 0;
  let exercisesDone = 0;
  for (const item of nav.querySelectorAll<HTMLElement>('[data-lesson]')) {
    const exercises = (item.dataset.exercises ?? '').split(' ').filter(Boolean);
    const done = exercises.filter((e) => passed.has(e)).length;
    const isRead = read.has(item.dataset.lesson ?? '');
    lessonsRead += isRead ? 1 : 0;
    exercisesTotal += exercises.length;
    exercisesDone += done;
    item.dataset.read = String(isRead);
    item.dataset.complete = String(isRead && done === exercises.length);
    const parts = [isRead ? 'read' : 'not read yet'];
    if (exercises.length) parts.push(`${done} of ${exercises.length} exercises passed`);
    const state = item.querySelector<HTMLElement>('.lesson-state');
    if (state) state.textContent = ` (${parts.join(', ')})`;
    const count = item.querySelector<HTMLElement>('.lesson-exercises');
    if (count && exercises.length) count.textContent = `${done}/${exercises.length}`;
  }
  const summary = nav.querySelector<HTMLElement>('[data-course-summary]');
  if (summary) {
    const lessons = nav.querySelectorAll('[data-lesson]').length;
    summary.textContent = `${lessonsRead} of ${lessons} lessons read · ${exercisesDone} of ${exercisesTotal} exercises passed`;
  }
}

function initMenuToggle(): void {
  const button = nav?.querySelector<HTMLButtonElement>('[data-course-toggle]');
  const list = nav?.querySelector<HTMLElement>('#course-lessons');
  if (!button || !list) return;
  // Without this script the list simply stays open; with it, narrow screens start with it folded away.
  button.hidden = false;
  nav?.setAttribute('data-collapsible', 'true');
  button.addEventListener('click', () => {
    const open = button.getAttribute('aria-expanded') !== 'true';
    button.setAttribute('aria-expanded', String(open));
  });
}

/** Reaching the end of a short page at once is not reading it. */
const MIN_READING_MS = 10_000;

/** A lesson counts as read once its last part (the pager after the quiz) has been on screen, after a while. */
function watchLessonEnd(): void {
  const lesson = document.querySelector<HTMLElement>('[data-lesson-id]');
  const end = document.querySelector('[data-lesson-end]');
  const id = lesson?.dataset.lessonId;
  if (!id || !end) return;
  const observer = new IntersectionObserver((entries) => {
    if (!entries.some((e) => e.isIntersecting)) return;
    observer.disconnect();
    setTimeout(() => void markLessonRead(id), Math.max(0, MIN_READING_MS - performance.now()));
  });
  observer.observe(end);
}

on('sidecar-lab:progress', render);
initMenuToggle();
watchLessonEnd();
void loadProgress();
