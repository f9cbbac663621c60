// <Run> and <Terminal> buttons: ask the terminal panel, through the bus, to type a command or to open.
import { announce } from './announce.ts';
import { emit } from './bus.ts';

document.addEventListener('click', (event) => {
  const button = (event.target as Element | null)?.closest<HTMLElement>('[data-run-command], [data-open-terminal]');
  if (!button) return;
  const command = button.dataset.runCommand;
  if (command === undefined) {
    emit('sidecar-lab:open-terminal', { focus: true });
    return;
  }
  emit('sidecar-lab:run', { command });
  announce('Sent to the terminal');
  button.classList.add('is-sent');
  setTimeout(() => button.classList.remove('is-sent'), 1200);
});
