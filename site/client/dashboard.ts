// The instructor's dashboard: the token from the URL fragment (kept in this tab only), the grid from the API, live
// updates from the event stream (checked against the shared zod schema), and the actions: extend, reset, end, export.
import { type ClientResponse, hc } from 'hono/client';
import type { WorkshopAppType } from '../../sandbox-server/src/http/routes/workshops.ts';
import {
  type LearnerRow,
  type WorkshopState,
  workshopState,
} from '../../sandbox-server/src/protocol/workshop-state.ts';
import { ApiRequestError, call, describeError, type Success } from './api.ts';
import { backoffDelay } from './backoff.ts';
import { el, Grid, timeLeft } from './dashboard-grid.ts';

const workshops = hc<WorkshopAppType>('/', { init: { credentials: 'same-origin' } });
/** The workshop in this page's address: /workshops/<id>/dashboard. */
const id = /^\/workshops\/([^/]+)\/dashboard\/?$/.exec(location.pathname)?.[1] ?? '';
const TOKEN_KEY = `sidecar-lab:workshop-token:${id}`;
const WRONG_TOKEN = 'That token does not open this workshop';
const STATUS_LABELS = { running: 'Running', over: 'Time is up', ended: 'Ended' } as const;

const $ = <T extends HTMLElement = HTMLElement>(selector: string) => document.getElementById(selector) as T;
const title = $('ws-title');
const live = $('live');
const message = $('message');
const board = $('board');
const tokenPanel = $('token-panel');
const tokenInput = $<HTMLInputElement>('token');

let state: WorkshopState | undefined;
/** Server clock minus browser clock, so countdowns follow the server. */
let skew = 0;
let source: EventSource | undefined;
let attempt = 0;
let ticking = false;

function storage(): Storage | undefined {
  try {
    return window.sessionStorage;
  } catch (error) {
    console.warn('sidecar-lab: sessionStorage is not available; the token lasts for this page only', error);
    return undefined;
  }
}

let token = storage()?.getItem(TOKEN_KEY) ?? '';
// The token arrives in the URL fragment (never sent to the server); keep it in this tab and drop it from the URL.
const fromFragment = new URLSearchParams(location.hash.slice(1)).get('token');
if (fromFragment) {
  token = fromFragment;
  storage()?.setItem(TOKEN_KEY, token);
  history.replaceState(null, '', location.pathname + location.search);
}

const auth = () => ({ headers: { Authorization: `Bearer ${token}` } });
const minutes = () => Math.min(240, Math.max(1, Math.round(Number($<HTMLInputElement>('minutes').value) || 15)));

function say(element: HTMLElement, text: string, error = false): void {
  element.textContent = text;
  element.classList.toggle('dash-error', error);
}

function askForToken(why?: string): void {
  source?.close();
  board.hidden = true;
  tokenPanel.hidden = false;
  title.textContent = 'Workshop dashboard';
  say(live, why ?? 'Needs the instructor token', Boolean(why));
  tokenInput.focus();
}

/** A refused token sends the instructor back to the token form; anything else is said where it happened. */
function failed(error: unknown, where: HTMLElement): void {
  if (error instanceof ApiRequestError && error.status === 401) {
    storage()?.removeItem(TOKEN_KEY);
    askForToken(WRONG_TOKEN);
    return;
  }
  say(where, `${sentence(describeError(error))}`, true);
}

const sentence = (text: string) => {
  const capital = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
};

async function open(): Promise<void> {
  try {
    const first = await call(() => workshops.api.workshops[':id'].$get({ param: { id } }, auth()));
    tokenPanel.hidden = true;
    board.hidden = false;
    render(first);
    if (!ticking) {
      ticking = true;
      setInterval(tick, 1000);
    }
    void connect();
  } catch (error) {
    failed(error, live);
  }
}

/** EventSource cannot send headers: mint a one-minute ticket with the token, then listen with the ticket. */
async function connect(): Promise<void> {
  source?.close();
  let ticket: string;
  try {
    ({ ticket } = await call(() => workshops.api.workshops[':id'].tickets.$post({ param: { id } }, auth())));
  } catch (error) {
    if (error instanceof ApiRequestError && error.status === 401) return failed(error, live);
    return reconnectLater();
  }
  const events = new EventSource(workshops.api.workshops[':id'].events.$path({ param: { id }, query: { ticket } }));
  source = events;
  events.addEventListener('open', () => {
    attempt = 0;
    setLive(true);
  });
  events.addEventListener('state', (event) => {
    const parsed = workshopState.safeParse(JSON.parse((event as MessageEvent<string>).data));
    if (parsed.success) render(parsed.data);
    else console.warn('sidecar-lab: ignored a dashboard update that does not fit the schema', parsed.error);
  });
  // The browser would retry with the same (soon expired) ticket; get a fresh one instead.
  events.addEventListener('error', () => reconnectLater());
}

function reconnectLater(): void {
  source?.close();
  setLive(false);
  setTimeout(() => void connect(), backoffDelay(attempt++));
}

function setLive(on: boolean): void {
  live.classList.toggle('dash-on', on);
  say(live, on ? 'Live' : 'Reconnecting…');
}

const grid = new Grid($<HTMLTableElement>('grid'), {
  extend: (learner, button) =>
    void act(
      button,
      () =>
        workshops.api.workshops[':id'].extend.$post(
          { param: { id }, json: { minutes: minutes(), learner: learner.id } },
          auth(),
        ),
      () => `${learner.name} has ${minutes()} more minutes.`,
    ),
  reset: (learner, button) => void resetSandbox(learner, button),
});

function render(next: WorkshopState): void {
  state = next;
  skew = Date.parse(next.now) - Date.now();
  document.title = `${next.name} · Workshop dashboard`;
  title.textContent = next.name;
  $('ws-status').replaceChildren(
    el('span', { className: `dash-badge ${next.status}`, text: STATUS_LABELS[next.status] }),
  );
  $('ws-count').textContent = `${next.learners.length} / ${next.capacity}`;
  $('ws-code').textContent = next.code;
  const ended = next.status === 'ended';
  for (const button of ['extend-all', 'end']) $<HTMLButtonElement>(button).disabled = ended;
  grid.render(next);
  $('empty').hidden = next.learners.length > 0;
  tick();
}

/** Countdowns, once a second, against the server's clock. */
function tick(): void {
  if (!state) return;
  const now = Date.now() + skew;
  $('ws-time').textContent = state.status === 'ended' ? '–' : timeLeft(Date.parse(state.endsAt) - now);
  grid.tick(state, now);
}

/** Runs an instructor action; its answer carries the new state. */
async function act<R extends ClientResponse<unknown>>(
  button: HTMLButtonElement,
  send: () => Promise<R>,
  done: (reply: Success<R>) => string,
): Promise<void> {
  button.disabled = true;
  say(message, 'Working…');
  try {
    const reply = await call(send);
    say(message, done(reply));
    const next = (reply as { state?: WorkshopState } | undefined)?.state;
    if (next) render(next);
  } catch (error) {
    failed(error, message);
  } finally {
    button.disabled = state?.status === 'ended';
  }
}

async function resetSandbox(learner: LearnerRow, button: HTMLButtonElement): Promise<void> {
  const sure = await confirmAction(
    `Reset ${learner.name}'s sandbox?`,
    'Their namespace, Pods and files are deleted and a fresh sandbox starts. Their progress on the grid is kept.',
    'Reset sandbox',
  );
  if (!sure) return;
  await act(
    button,
    () =>
      workshops.api.workshops[':id'].learners[':learner'].reset.$post({ param: { id, learner: learner.id } }, auth()),
    () => `${learner.name} has a fresh sandbox.`,
  );
}

/** A modal yes/no, keyboard-friendly; Cancel has the focus. */
function confirmAction(heading: string, text: string, ok: string): Promise<boolean> {
  const dialog = $<HTMLDialogElement>('confirm');
  $('confirm-title').textContent = heading;
  $('confirm-text').textContent = text;
  $('confirm-ok').textContent = ok;
  dialog.returnValue = '';
  dialog.showModal();
  $('confirm-cancel').focus();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
  });
}

/** Downloads need the token too, so fetch them and hand the browser a blob. */
async function download(format: 'csv' | 'json'): Promise<void> {
  try {
    const route = workshops.api.workshops[':id'][format === 'csv' ? 'export.csv' : 'export.json'];
    const response = await route.$get({ param: { id } }, auth());
    if (response.status === 401) return failed(new ApiRequestError(401, 'unauthorized', WRONG_TOKEN), message);
    if (!response.ok) return say(message, `The export failed (HTTP ${response.status}).`, true);
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement('a');
    link.href = url;
    link.download =
      /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? `results.${format}`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    say(message, `Exported ${link.download}.`);
  } catch (error) {
    say(message, `The export failed: ${describeError(error)}`, true);
  }
}

$<HTMLFormElement>('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  token = tokenInput.value.trim();
  storage()?.setItem(TOKEN_KEY, token);
  void open();
});

$<HTMLButtonElement>('extend-all').addEventListener('click', (event) => {
  void act(
    event.currentTarget as HTMLButtonElement,
    () => workshops.api.workshops[':id'].extend.$post({ param: { id }, json: { minutes: minutes() } }, auth()),
    () => `Everyone has ${minutes()} more minutes.`,
  );
});

$<HTMLButtonElement>('end').addEventListener('click', async (event) => {
  const button = event.currentTarget as HTMLButtonElement;
  const sure = await confirmAction(
    'End this workshop?',
    "Every learner's sandbox is deleted now. The grid stays here, and you can still export the results.",
    'End workshop',
  );
  if (!sure) return;
  await act(
    button,
    () => workshops.api.workshops[':id'].end.$post({ param: { id } }, auth()),
    ({ deleted }) =>
      `Workshop ended: ${deleted} ${deleted === 1 ? 'sandbox' : 'sandboxes'} deleted. The results stay for the export.`,
  );
});

$<HTMLButtonElement>('copy-link').addEventListener('click', async () => {
  const link = `${location.origin}/join/${state?.code ?? ''}`;
  try {
    await navigator.clipboard.writeText(link);
    say(message, `Copied ${link}`);
  } catch (error) {
    console.warn('sidecar-lab: clipboard not available', error);
    say(message, `Join link: ${link}`);
  }
});
$<HTMLButtonElement>('export-csv').addEventListener('click', () => void download('csv'));
$<HTMLButtonElement>('export-json').addEventListener('click', () => void download('json'));

if (!id) {
  title.textContent = 'Workshop dashboard';
  say(live, 'This address names no workshop; open the dashboard link you were given.', true);
} else if (token) void open();
else askForToken();
