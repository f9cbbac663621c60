// <Quiz>: immediate feedback when an answer is chosen, with the author's reason for that answer.

document.addEventListener('change', (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || input.type !== 'radio') return;
  const quiz = input.closest<HTMLElement>('[data-quiz]');
  const feedback = quiz?.querySelector<HTMLElement>('.quiz-feedback');
  if (!quiz || !feedback) return;
  const correct = input.dataset.correct === 'true';
  quiz.dataset.result = correct ? 'correct' : 'wrong';
  for (const option of quiz.querySelectorAll('.quiz-option')) option.classList.remove('is-chosen');
  input.closest('.quiz-option')?.classList.add('is-chosen');
  // data-why was rendered (and escaped) at build time from the lesson's own text.
  const why = input.dataset.why || (correct ? '' : 'Try another answer.');
  feedback.innerHTML = `<strong>${correct ? 'Correct.' : 'Not quite.'}</strong> ${why}`;
});
