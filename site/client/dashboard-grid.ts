// The dashboard's grid of learners × exercises, drawn from the workshop state the server pushes: every status has a
// word and a mark as well as a colour, rows and cells are kept between pushes (focus stays put) and changed cells flash.
import type { GridCell, LearnerRow, WorkshopState } from '../../sandbox-server/src/protocol/workshop-state.ts';

/** "1 h 05 min", "12 min", "time is up". */
export function timeLeft(ms: number): string {
  if (ms <= 0) return 'time is up';
  const minutes = Math.ceil(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** "1 try", "3 tries". */
export const tries = (n: number) => `${n} ${n === 1 ? 'try' : 'tries'}`;

/** How one cell reads: its kind (the colour), its mark and words (the same meaning, for everyone). */
export function describeCell(cell: GridCell | undefined): { kind: 'pass' | 'fail' | 'none'; mark: string } {
  if (cell?.passed) return { kind: 'pass', mark: '✓ Passed' };
  if (cell && cell.attempts > 0) return { kind: 'fail', mark: cell.last === 'error' ? '! Undecided' : '✗ Not yet' };
  return { kind: 'none', mark: '–' };
}

const clock = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' });

/** An element with a class, text and children; text only, never HTML. */
export function el(
  tag: string,
  options: { className?: string; text?: string } = {},
  children: Array<Node | string> = [],
) {
  const element = document.createElement(tag);
  if (options.className) element.className = options.className;
  if (options.text !== undefined) element.textContent = options.text;
  element.append(...children);
  return element;
}

const SANDBOX_LABELS: Record<string, string> = {
  ready: 'Ready',
  provisioning: 'Starting',
  expired: 'Expired',
  deleting: 'Deleting',
};

/** What a row's buttons do; the page wires them to the API. */
export interface RowActions {
  extend(learner: LearnerRow, button: HTMLButtonElement): void;
  reset(learner: LearnerRow, button: HTMLButtonElement): void;
}

/** The table's head, its "Most stuck" row and its body, kept in step with each pushed state. */
export class Grid {
  readonly #head: HTMLElement;
  readonly #stuck: HTMLElement;
  readonly #body: HTMLElement;
  readonly #actions: RowActions;
  readonly #rows = new Map<string, HTMLTableRowElement>();
  /** What each progress cell showed, to flash the ones that change. */
  readonly #shown = new Map<string, string>();

  constructor(table: HTMLTableElement, actions: RowActions) {
    this.#head = table.querySelector<HTMLElement>('[data-grid-head]')!;
    this.#stuck = table.querySelector<HTMLElement>('[data-grid-stuck]')!;
    this.#body = table.querySelector<HTMLElement>('tbody')!;
    this.#actions = actions;
  }

  render(state: WorkshopState): void {
    this.#renderHead(state);
    this.#renderStuck(state);
    this.#renderRows(state);
  }

  /** Each learner's "… left" under their sandbox, against the server's clock (`now`). */
  tick(state: WorkshopState, now: number): void {
    for (const td of this.#body.querySelectorAll<HTMLElement>('td[data-deadline]')) {
      const left = td.querySelector('.dash-left');
      const deadline = Date.parse(td.dataset.deadline ?? '');
      if (left) left.textContent = state.status === 'ended' ? '' : `${timeLeft(deadline - now)} left`;
    }
  }

  #renderHead(state: WorkshopState): void {
    const cells = [el('th', { text: 'Learner' }), el('th', { text: 'Sandbox' })];
    for (const exercise of state.exercises) {
      const th = el('th', { text: exercise.title }, [
        el('span', { className: 'dash-count', text: `${exercise.passed} / ${state.learners.length} passed` }),
      ]);
      th.title = exercise.id;
      cells.push(th);
    }
    cells.push(el('th', {}, [el('span', { className: 'visually-hidden', text: 'Actions' })]));
    for (const th of cells) th.setAttribute('scope', 'col');
    this.#head.replaceChildren(...cells);
  }

  /**
   * Under each exercise's heading, the check most learners fail right now and who they are: "Pod exists — 2
   * learners: Ana, Bo". Hidden while nobody fails anything, so an empty row does not take room.
   */
  #renderStuck(state: WorkshopState): void {
    const label = el('th', { text: 'Most stuck' });
    label.setAttribute('scope', 'row');
    const cells = [label, el('td')];
    for (const exercise of state.exercises) {
      const stuck = exercise.stuck;
      if (!stuck) {
        cells.push(el('td', {}, [el('span', { className: 'visually-hidden', text: 'Nobody fails a check' })]));
        continue;
      }
      const n = stuck.learners.length;
      const who = `${n} ${n === 1 ? 'learner' : 'learners'}: ${stuck.learners.map((l) => l.name).join(', ')}`;
      const td = el('td', {}, [
        el('div', { className: 'dash-stuck' }, [
          el('strong', { className: 'dash-stuck-title', text: stuck.title }),
          el('small', { text: `— ${who}` }),
        ]),
      ]);
      td.title = `${exercise.title}: ${stuck.check}`;
      cells.push(td);
    }
    cells.push(el('td'));
    this.#stuck.replaceChildren(...cells);
    this.#stuck.hidden = state.exercises.every((e) => !e.stuck);
  }

  #renderRows(state: WorkshopState): void {
    const ended = state.status === 'ended';
    const seen = new Set<string>();
    state.learners.forEach((learner, index) => {
      seen.add(learner.id);
      let row = this.#rows.get(learner.id);
      if (!row) {
        row = document.createElement('tr');
        this.#rows.set(learner.id, row);
      }
      // Rows are kept, not recreated, so focus stays on a button; moving a node would also restart its animations.
      if (this.#body.children[index] !== row) this.#body.insertBefore(row, this.#body.children[index] ?? null);
      const cells = [nameCell(learner), sandboxCell(learner)];
      for (const exercise of state.exercises) cells.push(exerciseCell(learner, exercise.id));
      cells.push(this.#actionsCell(learner, ended));
      this.#sync(row, cells);
    });
    for (const [learnerId, row] of this.#rows) {
      if (!seen.has(learnerId)) {
        row.remove();
        this.#rows.delete(learnerId);
      }
    }
  }

  /** Replaces only the cells whose content changed, and flashes changed progress cells. */
  #sync(row: HTMLTableRowElement, cells: HTMLElement[]): void {
    cells.forEach((cell, index) => {
      const old = row.children[index] as HTMLElement | undefined;
      if (old && old.dataset.key === cell.dataset.key) return;
      const flash = cell.dataset.flash;
      if (old && flash && this.#shown.has(flash)) {
        cell.classList.add('dash-flash');
        cell.addEventListener('animationend', () => cell.classList.remove('dash-flash'), { once: true });
      }
      if (flash) this.#shown.set(flash, cell.dataset.key ?? '');
      if (old) old.replaceWith(cell);
      else row.append(cell);
    });
    while (row.children.length > cells.length) row.lastElementChild?.remove();
  }

  #actionsCell(learner: LearnerRow, ended: boolean): HTMLElement {
    const extend = el('button', { className: 'secondary-button dash-small', text: 'Extend' }) as HTMLButtonElement;
    extend.type = 'button';
    extend.setAttribute('aria-label', `Extend ${learner.name}`);
    extend.addEventListener('click', () => this.#actions.extend(learner, extend));
    const reset = el('button', { className: 'secondary-button dash-small', text: 'Reset' }) as HTMLButtonElement;
    reset.type = 'button';
    reset.setAttribute('aria-label', `Reset ${learner.name}'s sandbox`);
    reset.addEventListener('click', () => this.#actions.reset(learner, reset));
    extend.disabled = ended;
    reset.disabled = ended;
    const td = el('td', {}, [el('div', { className: 'dash-row-actions' }, [extend, reset])]);
    td.dataset.key = `actions:${ended}:${learner.name}`;
    return td;
  }
}

function nameCell(learner: LearnerRow): HTMLElement {
  const th = el('th', { text: learner.name });
  th.setAttribute('scope', 'row');
  th.dataset.key = `name:${learner.name}`;
  return th;
}

function sandboxCell(learner: LearnerRow): HTMLElement {
  const sandbox = learner.sandbox;
  const status = sandbox?.status ?? 'none';
  const td = el('td', {}, [
    el('div', { className: 'dash-sandbox' }, [
      el('span', { className: `dash-badge ${status}`, text: SANDBOX_LABELS[status] ?? 'No sandbox' }),
      ...(sandbox ? [el('small', { text: sandbox.namespace })] : []),
      el('small', { className: 'dash-left', text: '' }),
    ]),
  ]);
  td.dataset.deadline = learner.deadline;
  td.dataset.key = `sandbox:${status}:${sandbox?.namespace}:${learner.deadline}`;
  return td;
}

function exerciseCell(learner: LearnerRow, exercise: string): HTMLElement {
  const cell = learner.cells[exercise];
  const { kind, mark } = describeCell(cell);
  const attempts = cell?.attempts ?? 0;
  const parts: Node[] = [el('span', { className: 'dash-mark', text: mark })];
  if (kind === 'pass')
    parts.push(el('small', { text: tries(attempts) + (cell?.firstPassAt ? ` · ${clock(cell.firstPassAt)}` : '') }));
  else if (kind === 'fail') parts.push(el('small', { text: tries(attempts) }));
  else parts.push(el('span', { className: 'visually-hidden', text: 'Not tried' }));
  const td = el('td', { className: `dash-cell-${kind}` }, [el('div', { className: `dash-cell ${kind}` }, parts)]);
  td.dataset.key = `cell:${kind}:${attempts}:${cell?.last}`;
  td.dataset.flash = `${learner.id}:${exercise}`;
  return td;
}
