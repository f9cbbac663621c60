// The home page: each lesson's progress and a "continue" link, from the learner's record (this browser's copy at
// once, the server's when it answers).
import { on } from './bus.ts';
import { type LessonEntry, lessonProgress, nextLesson } from './next-lesson.ts';
import { loadProgress, type Progress } from './progress.ts';

const items = [...document.querySelectorAll<HTMLElement>('[data-home-lesson]')];
const lessons: Array<LessonEntry & { item: HTMLElement }> = items.map((item) => ({
  id: item.dataset.homeLesson ?? '',
  exercises: (item.dataset.exercises ?? '').split(' ').filter(Boolean),
  item,
}));
const resume = document.querySelector<HTMLElement>('[data-continue]');

function render(record: Progress): void {
  for (const lesson of lessons) {
    const state = lessonProgress(lesson, record);
    lesson.item.dataset.complete = String(state.complete);
    const parts = [state.read ? 'read' : 'not read yet'];
    if (lesson.exercises.length) parts.push(`${state.passed}/${lesson.exercises.length} exercises passed`);
    const label = lesson.item.querySelector<HTMLElement>('[data-state]');
    if (label) label.textContent = parts.join(' · ');
  }
  if (!resume) return;
  const next = nextLesson(lessons, record);
  const link = resume.querySelector<HTMLAnchorElement>('a');
  const text = resume.querySelector<HTMLElement>('[data-continue-text]');
  if (!link || !text) return;
  if (!next) {
    text.textContent = 'You have read every lesson and passed every exercise.';
    link.hidden = true;
  } else {
    const target = lessons.find((l) => l.id === next.lesson.id)?.item.querySelector<HTMLAnchorElement>('a');
    text.textContent = next.started ? 'Continue where you left off:' : 'Start here:';
    link.hidden = false;
    link.href = target?.href ?? link.href;
    link.textContent = target?.textContent ?? '';
  }
  resume.hidden = false;
}

on('sidecar-lab:progress', render);
void loadProgress();
