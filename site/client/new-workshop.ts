// The new-workshop page: sends the form through the typed workshop client and shows the code, the join link and the
// instructor token once; the dashboard link carries the token in its fragment, which never reaches the server.
import { hc } from 'hono/client';
import type { WorkshopAppType } from '../../sandbox-server/src/http/routes/workshops.ts';
import { call, describeError } from './api.ts';

const workshops = hc<WorkshopAppType>('/', { init: { credentials: 'same-origin' } });

const form = document.querySelector<HTMLFormElement>('#new-form');
const status = document.querySelector<HTMLElement>('#new-status');
const created = document.querySelector<HTMLElement>('#created');

function show(id: string, text: string): void {
  const element = document.getElementById(id);
  if (element) element.textContent = text;
}

form?.addEventListener('submit', async (event) => {
  event.preventDefault();
  const data = new FormData(form);
  const button = form.querySelector<HTMLButtonElement>('button[type="submit"]');
  button?.setAttribute('aria-busy', 'true');
  if (status) status.textContent = 'Creating…';
  try {
    const workshop = await call(() =>
      workshops.api.workshops.$post({
        json: {
          name: String(data.get('name') ?? ''),
          capacity: Number(data.get('capacity')),
          duration: String(data.get('duration') ?? ''),
          exercises: data.getAll('exercises').map(String),
        },
      }),
    );
    show('created-code', workshop.code);
    show('created-join', new URL(workshop.joinPath, location.origin).href);
    show('created-token', workshop.token);
    const dashboard = document.querySelector<HTMLAnchorElement>('#created-dashboard');
    if (dashboard) dashboard.href = `${workshop.dashboardPath}#token=${encodeURIComponent(workshop.token)}`;
    form.hidden = true;
    if (status) status.textContent = '';
    if (created) created.hidden = false;
    created?.querySelector('h2')?.setAttribute('tabindex', '-1');
    created?.querySelector<HTMLElement>('h2')?.focus();
  } catch (error) {
    if (status) status.textContent = `Not created: ${describeError(error)}`;
  } finally {
    button?.removeAttribute('aria-busy');
  }
});
