// The frame of a <Preview>: the Pod's page from the server's preview route, which serves it with `CSP: sandbox`
// (an opaque origin) — the frame's own `sandbox` attribute says the same, so the page can run its scripts but never
// read the course's cookies, storage or DOM, nor call its API as the learner.
import { ensureSandbox } from './sandbox.ts';

/** The preview URL of `pod`'s `port` in sandbox `id` (PodView and others may link to it too). */
export function previewUrl(id: string, pod: string, port: string | number): string {
  return `/preview/sandboxes/${encodeURIComponent(id)}/pods/${encodeURIComponent(pod)}/${port}/`;
}

function say(block: HTMLElement, text: string, state: 'busy' | 'ok' | 'error'): void {
  const status = block.querySelector<HTMLElement>('.preview-status');
  if (!status) return;
  status.dataset.state = state;
  status.textContent = text;
}

/** Opens the block's preview (starting the sandbox when needed), or closes it when it is open. */
export async function togglePreview(block: HTMLElement, button: HTMLButtonElement): Promise<void> {
  const body = block.querySelector<HTMLElement>('.preview-body');
  if (!body) return;
  if (button.getAttribute('aria-expanded') === 'true') {
    body.replaceChildren();
    body.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    button.textContent = 'Preview';
    say(block, '', 'ok');
    return;
  }
  const pod = block.dataset.previewPod ?? '';
  const port = block.dataset.previewPort ?? '';
  say(block, 'Starting…', 'busy');
  const sandbox = await ensureSandbox();
  const url = previewUrl(sandbox.id, pod, port);

  const frame = document.createElement('iframe');
  frame.className = 'preview-frame';
  frame.title = `Page served by Pod ${pod} on port ${port}`;
  frame.setAttribute('sandbox', 'allow-scripts allow-forms allow-popups');
  frame.referrerPolicy = 'no-referrer';
  frame.loading = 'eager';
  frame.src = url;

  const tools = document.createElement('div');
  tools.className = 'preview-tools';
  const reload = document.createElement('button');
  reload.type = 'button';
  reload.textContent = 'Reload';
  reload.setAttribute('aria-label', `Reload the preview of ${pod}`);
  reload.addEventListener('click', () => {
    frame.src = url;
  });
  const tab = document.createElement('a');
  tab.href = url;
  tab.target = '_blank';
  tab.rel = 'noopener noreferrer';
  tab.textContent = 'Open in a new tab';
  tools.append(reload, tab);

  body.replaceChildren(tools, frame);
  body.hidden = false;
  button.setAttribute('aria-expanded', 'true');
  button.textContent = 'Close preview';
  frame.addEventListener('load', () => say(block, 'Shown below', 'ok'), { once: true });
}
