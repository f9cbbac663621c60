// The in-page editor of one home-folder file: a plain textarea (keyboard and screen readers work as in any form
// field), Save, and the cluster's own verdict as the learner types — a strict dry run as the learner, listed by line.
// A change made in the terminal is noticed when the page gets focus back, and offered for reload.
import { call, callIdempotent, describeError, segment, server } from './api.ts';
import { ensureSandbox } from './sandbox.ts';

const VALIDATE_AFTER_MS = 600;

function button(label: string): HTMLButtonElement {
  const made = document.createElement('button');
  made.type = 'button';
  made.textContent = label;
  return made;
}

/** Opens the block's editor (starting the sandbox when needed), or closes it when it is open. */
export async function toggleEditor(block: HTMLElement, toggle: HTMLButtonElement): Promise<void> {
  const body = block.querySelector<HTMLElement>('.editor-body');
  const status = block.querySelector<HTMLElement>('.editor-status');
  if (!body || !status) return;
  if (toggle.getAttribute('aria-expanded') === 'true') {
    body.dispatchEvent(new Event('editor-close'));
    body.replaceChildren();
    body.hidden = true;
    toggle.setAttribute('aria-expanded', 'false');
    toggle.textContent = 'Open in editor';
    status.textContent = '';
    return;
  }
  const path = block.dataset.editorPath ?? '';
  status.textContent = 'Opening…';
  const sandbox = await ensureSandbox();
  const route = server.api.sandboxes[':id'];
  const param = { id: segment(sandbox.id) };
  const read = async () => (await callIdempotent(() => route.files.$get({ param, query: { path } }))).content;
  let saved = await read();

  const listId = `${body.id}-problems`;
  const text = document.createElement('textarea');
  text.className = 'editor-text';
  text.value = saved;
  text.spellcheck = false;
  text.rows = 18;
  text.setAttribute('aria-label', `Contents of ~/${path}`);
  text.setAttribute('aria-describedby', listId);
  text.setAttribute('autocapitalize', 'off');
  const save = button('Save');
  const reload = button('Reload from the sandbox');
  reload.hidden = true;
  const problems = document.createElement('ul');
  problems.id = listId;
  problems.className = 'editor-problems';
  problems.setAttribute('aria-label', 'Problems the cluster found');
  const tools = document.createElement('div');
  tools.className = 'preview-tools';
  tools.append(save, reload);
  body.replaceChildren(tools, text, problems);
  body.hidden = false;
  toggle.setAttribute('aria-expanded', 'true');
  toggle.textContent = 'Close editor';
  status.textContent = `Opened ~/${path}`;

  let timer: ReturnType<typeof setTimeout> | undefined;
  let asked = 0;
  const validate = async () => {
    const mine = ++asked;
    const { diagnostics } = await call(() => route.validate.$post({ param, json: { content: text.value } }));
    if (mine !== asked) return; // a newer check is on its way
    problems.replaceChildren(
      ...diagnostics.map((d) => {
        const item = document.createElement('li');
        item.textContent = `Line ${d.line}: ${d.message}`;
        return item;
      }),
    );
    text.setAttribute('aria-invalid', String(diagnostics.length > 0));
    status.textContent = diagnostics.length === 0 ? 'The cluster accepts it' : `${diagnostics.length} problem(s)`;
  };
  const validateSoon = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      validate().catch((error: unknown) => {
        status.textContent = `Not checked: ${describeError(error)}`;
      });
    }, VALIDATE_AFTER_MS);
  };
  text.addEventListener('input', validateSoon);
  validateSoon();

  save.addEventListener('click', async () => {
    try {
      await call(() => route.files.$post({ param, json: { path, content: text.value } }));
      saved = text.value;
      reload.hidden = true;
      status.textContent = `Saved ~/${path}`;
    } catch (error) {
      status.textContent = `Not saved: ${describeError(error)}`;
    }
  });
  // The terminal may have changed the file while the learner was there: offer it when the page is back in focus.
  const notice = async () => {
    const current = await read().catch(() => undefined);
    if (current === undefined || current === saved) return;
    reload.hidden = false;
    status.textContent = `~/${path} was changed in the sandbox`;
    reload.onclick = () => {
      text.value = saved = current;
      reload.hidden = true;
      status.textContent = `Reloaded ~/${path}`;
      validateSoon();
    };
  };
  const onFocus = () => void notice();
  window.addEventListener('focus', onFocus);
  text.addEventListener('focus', onFocus);
  body.addEventListener(
    'editor-close',
    () => {
      clearTimeout(timer);
      window.removeEventListener('focus', onFocus);
    },
    { once: true },
  );
}
