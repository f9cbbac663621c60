// Opens and closes <PodView /> pictures. Light on purpose: the picture itself (./pod-view.ts) is imported only when a
// learner opens one, so it is its own chunk and lesson pages stay within their JavaScript budget.
import { describeError } from './api.ts';
import { on } from './bus.ts';
import { ensureSandbox } from './sandbox.ts';
import { readItem, writeItem } from './storage.ts';

/** sessionStorage: a picture was open in this tab, so a reload opens it again. */
const OPEN_KEY = 'sidecar-lab:pod-view';

interface Handle {
  dispose(): void;
}

for (const root of document.querySelectorAll<HTMLElement>('[data-pod-view]')) initPodView(root);

function initPodView(root: HTMLElement): void {
  const toggle = root.querySelector<HTMLButtonElement>('[data-pod-view-toggle]')!;
  const body = root.querySelector<HTMLElement>('[data-pod-view-body]')!;
  let view: Handle | undefined;
  let opening = false;

  async function open(): Promise<void> {
    if (view || opening) return;
    opening = true;
    body.hidden = false;
    toggle.setAttribute('aria-expanded', 'true');
    toggle.textContent = 'Hide my Pods';
    writeItem(OPEN_KEY, '1', 'session');
    body.textContent = 'Starting…';
    try {
      const [sandbox, { mountPodView }] = await Promise.all([ensureSandbox(), import('./pod-view.ts')]);
      if (toggle.getAttribute('aria-expanded') === 'true') view = mountPodView(body, sandbox.id);
    } catch (error) {
      body.textContent = `The picture could not start: ${describeError(error)}`;
    } finally {
      opening = false;
    }
  }

  function close(): void {
    view?.dispose();
    view = undefined;
    body.hidden = true;
    body.replaceChildren();
    toggle.setAttribute('aria-expanded', 'false');
    toggle.textContent = 'Show my Pods';
    writeItem(OPEN_KEY, undefined, 'session');
  }

  toggle.addEventListener('click', () => (view || opening ? close() : void open()));
  // A new sandbox has new Pods: start over with it.
  on('sidecar-lab:sandbox', (state) => {
    if (state.phase === 'ended' && view) {
      close();
      body.hidden = false;
      body.textContent = state.message ?? 'Your sandbox has ended.';
    }
  });
  if (readItem(OPEN_KEY, 'session') === '1') void open();
}
