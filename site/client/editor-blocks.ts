// <Editor> blocks: the button opens the file in the page; the editor's code loads on first use.
import { describeError } from './api.ts';

document.addEventListener('click', async (event) => {
  const button = (event.target as Element | null)?.closest<HTMLButtonElement>('[data-editor-toggle]');
  const block = button?.closest<HTMLElement>('[data-editor-path]');
  if (!button || !block || button.getAttribute('aria-busy') === 'true') return;
  button.setAttribute('aria-busy', 'true');
  try {
    const { toggleEditor } = await import('./editor.ts');
    await toggleEditor(block, button);
  } catch (error) {
    const status = block.querySelector<HTMLElement>('.editor-status');
    if (status) status.textContent = `Not opened: ${describeError(error)}`;
  } finally {
    button.removeAttribute('aria-busy');
  }
});
