// The in-page editor of one home-folder file: CodeMirror (editor-view.ts) with Save, and the cluster's own verdict as
// the learner types — a strict dry run as the learner, underlined in the text and listed by line below it. A change
// made in the terminal is noticed when the page gets focus back, and offered for reload.
import type { ApiSchema } from '../../sandbox-server/src/cluster/api-schema.ts';
import { call, callIdempotent, describeError, segment, server } from './api.ts';
import { manifestView, replaceText } from './editor-view.ts';
import { ensureSandbox } from './sandbox.ts';

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
  const host = document.createElement('div');
  host.className = 'editor-host';
  body.replaceChildren(tools, host, problems);
  body.hidden = false;

  // Completion waits for the cluster's field tree; editing and checking do not.
  let schema: ApiSchema | undefined;
  callIdempotent(() => route.schema.$get({ param }))
    .then((tree) => {
      schema = tree;
    })
    .catch((error: unknown) => {
      status.textContent = `No field completion: ${describeError(error)}`;
    });
  const saveNow = async () => {
    const content = view.state.doc.toString();
    try {
      await call(() => route.files.$post({ param, json: { path, content } }));
      saved = content;
      reload.hidden = true;
      status.textContent = `Saved ~/${path}`;
    } catch (error) {
      status.textContent = `Not saved: ${describeError(error)}`;
    }
  };
  const view = manifestView({
    parent: host,
    text: saved,
    label: `Contents of ~/${path}`,
    describedBy: listId,
    schema: () => schema,
    save: () => void saveNow(),
    validate: async (content) => (await call(() => route.validate.$post({ param, json: { content } }))).diagnostics,
    // The underlines are for the eye; the same problems stay listed as text for screen readers and for copying.
    checked: (result) => {
      if ('error' in result) {
        status.textContent = `Not checked: ${describeError(result.error)}`;
        return;
      }
      problems.replaceChildren(
        ...result.problems.map((d) => {
          const item = document.createElement('li');
          item.textContent = `Line ${d.line}: ${d.message}`;
          return item;
        }),
      );
      const count = result.problems.length;
      view.contentDOM.setAttribute('aria-invalid', String(count > 0));
      status.textContent = count === 0 ? 'The cluster accepts it' : `${count} problem(s)`;
    },
  });
  toggle.setAttribute('aria-expanded', 'true');
  toggle.textContent = 'Close editor';
  status.textContent = `Opened ~/${path}`;
  save.addEventListener('click', () => void saveNow());
  // The terminal may have changed the file while the learner was there: offer it when the page is back in focus.
  const notice = async () => {
    const current = await read().catch(() => undefined);
    if (current === undefined || current === saved) return;
    reload.hidden = false;
    status.textContent = `~/${path} was changed in the sandbox`;
    reload.onclick = () => {
      saved = current;
      replaceText(view, current);
      reload.hidden = true;
      status.textContent = `Reloaded ~/${path}`;
    };
  };
  const onFocus = () => void notice();
  window.addEventListener('focus', onFocus);
  view.contentDOM.addEventListener('focus', onFocus);
  body.addEventListener(
    'editor-close',
    () => {
      window.removeEventListener('focus', onFocus);
      view.destroy();
    },
    { once: true },
  );
}
