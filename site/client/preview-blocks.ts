// <Preview> blocks: the button opens or closes the Pod's page; the code that builds the frame loads on first use.
import { describeError } from './api.ts';

document.addEventListener('click', async (event) => {
  const button = (event.target as Element | null)?.closest<HTMLButtonElement>('[data-preview-toggle]');
  const block = button?.closest<HTMLElement>('[data-preview-pod]');
  if (!button || !block || button.getAttribute('aria-busy') === 'true') return;
  const status = block.querySelector<HTMLElement>('.preview-status');
  button.setAttribute('aria-busy', 'true');
  try {
    const { togglePreview } = await import('./preview.ts');
    await togglePreview(block, button);
  } catch (error) {
    if (status) {
      status.dataset.state = 'error';
      status.textContent = `No preview: ${describeError(error)}`;
    }
  } finally {
    button.removeAttribute('aria-busy');
  }
});
