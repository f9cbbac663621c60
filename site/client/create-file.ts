// <CreateFile> buttons: write the shown file into the sandbox's home folder (starting the sandbox when needed).
import { describeError } from './api.ts';
import { emit } from './bus.ts';
import { writeFile } from './sandbox.ts';

document.addEventListener('click', async (event) => {
  const button = (event.target as Element | null)?.closest<HTMLButtonElement>('[data-create-path]');
  if (!button || button.getAttribute('aria-busy') === 'true') return;
  const path = button.dataset.createPath ?? '';
  const content = button.dataset.createContent ?? '';
  const status = button.parentElement?.querySelector<HTMLElement>('.file-status');
  // aria-busy rather than disabled: disabling the focused button would drop keyboard focus to the page.
  button.setAttribute('aria-busy', 'true');
  if (status) {
    status.dataset.state = 'busy';
    status.textContent = 'Creating…';
  }
  // The learner will want the terminal next (to apply the file), and it shows the sandbox starting.
  emit('sidecar-lab:open-terminal', { focus: false });
  try {
    await writeFile(path, content);
    if (status) {
      status.dataset.state = 'ok';
      status.textContent = `Created ~/${path}`;
    }
  } catch (error) {
    if (status) {
      status.dataset.state = 'error';
      status.textContent = `Not created: ${describeError(error)}`;
    }
  } finally {
    button.removeAttribute('aria-busy');
  }
});
