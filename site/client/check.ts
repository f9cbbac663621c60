// <Check> in the browser: runs an exercise's checks and shows each result with its hint as the server finishes it,
// reveals the exercise's hints one at a time and the solution after the first attempt, and re-runs by itself
// (debounced, never two at once) when the learner's namespace changes while the exercise is on screen. Only presses
// of Check are sent as `manual` (an attempt on the workshop grid); re-runs by itself are sent as `auto`.
import type { CheckResult, ExerciseReport } from '../../exercises/model.ts';
import { describeError } from './api.ts';
import { debounce } from './backoff.ts';
import { emit, on } from './bus.ts';
import { markExercisePassed } from './progress.ts';
import { onNamespaceChange, runChecks, sandboxState, setUpExercise } from './sandbox.ts';

/** Changes come in bursts (a Pod is created, scheduled, started…): wait for the burst to end. */
const AUTO_RERUN_DELAY_MS = 1500;
/** A press of Check still running after this long is told what it may be waiting for. */
const EXPLAIN_WAIT_AFTER_MS = 2000;

type ItemStatus = CheckResult['status'] | 'pending' | 'running';

const ICON: Record<ItemStatus, string> = { pass: '✓', fail: '✗', error: '!', pending: '', running: '…' };
const SPOKEN: Record<ItemStatus, string> = {
  pass: 'passed',
  fail: 'failed',
  error: 'could not be checked',
  pending: 'not checked yet',
  running: 'checking',
};

/** Text with `code` spans as <code> elements, built from nodes so server text is never parsed as HTML. */
function fillWithCode(element: HTMLElement, text: string): void {
  element.replaceChildren();
  for (const [i, part] of text.split('`').entries()) {
    if (i % 2 === 1) {
      const code = document.createElement('code');
      code.textContent = part;
      element.append(code);
    } else if (part) {
      element.append(part);
    }
  }
}

class ExerciseCheck {
  private readonly root: HTMLElement;
  private readonly id: string;
  private readonly button: HTMLButtonElement;
  private readonly summary: HTMLElement;
  private running = false;
  private rerunWanted = false;
  /** The learner pressed Check while a run was going: the run after it is theirs, an attempt. */
  private manualWanted = false;
  private attempted = false;
  private visible = false;
  private stale = false;
  /** A press of Check has run long enough that the summary names the check it waits on. */
  private explaining = false;
  private stopWatching: (() => void) | undefined;
  private readonly scheduleAuto = debounce(() => void this.run(true), AUTO_RERUN_DELAY_MS);

  constructor(root: HTMLElement) {
    this.root = root;
    this.id = root.dataset.exercise ?? '';
    this.button = root.querySelector<HTMLButtonElement>('[data-check-run]')!;
    this.summary = root.querySelector<HTMLElement>('.check-summary')!;
    this.button.addEventListener('click', () => void this.run(false));
    root.querySelector('[data-hint-next]')?.addEventListener('click', (event) => this.nextHint(event.currentTarget));
    root.querySelector('[data-exercise-setup]')?.addEventListener('click', () => void this.setUp());
    new IntersectionObserver((entries) => {
      this.visible = entries.some((e) => e.isIntersecting);
      if (this.visible && this.stale) {
        this.stale = false;
        this.scheduleAuto();
      }
    }).observe(root);
    on('sidecar-lab:sandbox', () => this.syncWatch());
  }

  /** Watches the namespace once the learner has checked at least once and the sandbox is ready. */
  private syncWatch(): void {
    const want = this.attempted && sandboxState().phase === 'ready';
    if (want && !this.stopWatching) {
      this.stopWatching = onNamespaceChange(() => {
        if (this.visible) this.scheduleAuto();
        else this.stale = true;
      });
    } else if (!want && this.stopWatching) {
      this.stopWatching();
      this.stopWatching = undefined;
      this.scheduleAuto.cancel();
    }
    const note = this.root.querySelector<HTMLElement>('.check-auto');
    if (note) note.hidden = !this.stopWatching;
  }

  private answer(): string | undefined {
    const input = this.root.querySelector<HTMLInputElement>('[data-exercise-answer]');
    const value = input?.value.trim();
    return value ? value : undefined;
  }

  async run(auto: boolean): Promise<void> {
    if (this.running) {
      this.rerunWanted = true;
      if (!auto) this.manualWanted = true;
      return;
    }
    if (sandboxState().phase !== 'ready') {
      if (auto) return;
      this.setSummary(
        'Start your sandbox first (the terminal panel opens now), then create and apply your work.',
        'error',
      );
      emit('sidecar-lab:open-terminal', { focus: false });
      return;
    }
    this.running = true;
    this.button.setAttribute('aria-busy', 'true');
    this.root.dataset.running = 'true';
    if (!auto) this.setSummary('Checking…', 'busy');
    if (!auto) this.markAllPending();
    this.explaining = false;
    const explain = auto
      ? undefined
      : setTimeout(() => {
          this.explaining = true;
          this.explainWait();
        }, EXPLAIN_WAIT_AFTER_MS);
    try {
      const report = await runChecks(this.id, auto ? 'auto' : 'manual', this.answer(), (result) =>
        this.told(result, auto),
      );
      this.render(report, auto);
    } catch (error) {
      this.setSummary(`The checks could not run: ${describeError(error)}`, 'error');
    } finally {
      clearTimeout(explain);
      this.running = false;
      this.button.removeAttribute('aria-busy');
      delete this.root.dataset.running;
      this.attempted = true;
      this.root.querySelector<HTMLElement>('[data-solution]')?.removeAttribute('hidden');
      this.syncWatch();
      if (this.manualWanted) {
        this.rerunWanted = this.manualWanted = false;
        void this.run(false);
      } else if (this.rerunWanted) {
        this.rerunWanted = false;
        this.scheduleAuto();
      }
    }
  }

  /** A press of Check: every row waits for its verdict, the first one is being checked. */
  private markAllPending(): void {
    const items = [...this.root.querySelectorAll<HTMLElement>('.check-item')];
    for (const [i, item] of items.entries()) this.renderWaiting(item, i === 0 ? 'running' : 'pending');
  }

  /** One check's verdict, as the server finished it: show it, and on a press of Check mark the next as running. */
  private told(result: CheckResult, auto: boolean): void {
    const list = this.root.querySelector<HTMLOListElement>('.check-list')!;
    const item =
      list.querySelector<HTMLElement>(`[data-check-id="${CSS.escape(result.id)}"]`) ?? this.addItem(list, result);
    this.renderItem(item, result);
    if (auto) return;
    const next = item.nextElementSibling as HTMLElement | null;
    if (next?.dataset.status === 'pending') this.renderWaiting(next, 'running');
    if (this.explaining) this.explainWait();
  }

  /**
   * Says which check the run waits on (the summary is a live region): a Check right after `kubectl apply` waits for
   * containers to start, log lines to come, a Job to finish — the learner should know it is not stuck.
   */
  private explainWait(): void {
    const running = this.root.querySelector<HTMLElement>('.check-item[data-status="running"]');
    const title = running?.querySelector('.check-title')?.textContent;
    if (!running || !title) return;
    const done = this.root.querySelectorAll(
      '.check-item:is([data-status="pass"],[data-status="fail"],[data-status="error"])',
    );
    const total = this.root.querySelectorAll('.check-item').length;
    const why =
      running.dataset.waits === undefined
        ? ''
        : ' It waits for your objects to do what the goal says, so this can take a while.';
    this.setSummary(`Checking ${done.length + 1} of ${total}: “${title}”…${why}`, 'busy');
  }

  private render(report: ExerciseReport, auto: boolean): void {
    const list = this.root.querySelector<HTMLOListElement>('.check-list')!;
    for (const result of report.checks) {
      let item = list.querySelector<HTMLElement>(`[data-check-id="${CSS.escape(result.id)}"]`);
      // A check added to the exercise after this page was built still gets a row.
      if (!item) item = this.addItem(list, result);
      this.renderItem(item, result);
    }
    const passed = report.checks.filter((c) => c.status === 'pass').length;
    const total = report.checks.length;
    const when = auto ? ` Re-checked automatically at ${new Date().toLocaleTimeString()}.` : '';
    if (report.passed) {
      this.setSummary(`All ${total} checks pass. Exercise complete!${when}`, 'pass');
      this.root.dataset.passed = 'true';
      markExercisePassed(this.id);
    } else {
      delete this.root.dataset.passed;
      const errors = report.checks.filter((c) => c.status === 'error').length;
      const note = errors ? ` ${errors} could not be checked right now; try again in a moment.` : '';
      this.setSummary(`${passed} of ${total} checks pass.${note}${when}`, report.status);
    }
  }

  private addItem(list: HTMLOListElement, result: CheckResult): HTMLElement {
    const item = document.createElement('li');
    item.className = 'check-item';
    item.dataset.checkId = result.id;
    item.innerHTML =
      '<span class="check-icon" aria-hidden="true"></span><span class="check-title"></span>' +
      '<span class="check-state visually-hidden"></span><p class="check-message" hidden></p>' +
      '<p class="check-hint" hidden></p>';
    item.querySelector('.check-title')!.textContent = result.title;
    list.append(item);
    return item;
  }

  private renderWaiting(item: HTMLElement, status: 'running' | 'pending'): void {
    item.dataset.status = status;
    item.querySelector('.check-icon')!.textContent = ICON[status];
    item.querySelector('.check-state')!.textContent = `: ${SPOKEN[status]}`;
    item.querySelector<HTMLElement>('.check-message')!.hidden = true;
    item.querySelector<HTMLElement>('.check-hint')!.hidden = true;
  }

  private renderItem(item: HTMLElement, result: CheckResult): void {
    const status: ItemStatus = result.status;
    item.dataset.status = status;
    item.querySelector('.check-icon')!.textContent = ICON[status];
    item.querySelector('.check-state')!.textContent = `: ${SPOKEN[status]}`;
    const message = item.querySelector<HTMLElement>('.check-message')!;
    fillWithCode(message, result.message);
    message.hidden = false;
    const hint = item.querySelector<HTMLElement>('.check-hint')!;
    const showHint = status !== 'pass' && Boolean(result.hint);
    hint.hidden = !showHint;
    if (showHint) {
      fillWithCode(hint, `Hint: ${result.hint}`);
    }
  }

  private setSummary(text: string, state: string): void {
    if (this.summary.textContent !== text) this.summary.textContent = text;
    this.summary.dataset.state = state;
  }

  private nextHint(target: EventTarget | null): void {
    const button = target as HTMLButtonElement;
    const hints = [...this.root.querySelectorAll<HTMLElement>('.hint-list li')];
    const next = hints.find((h) => h.hidden);
    if (!next) return;
    next.hidden = false;
    const shown = hints.filter((h) => !h.hidden).length;
    if (shown === hints.length) {
      button.textContent = 'All hints shown';
      button.setAttribute('aria-disabled', 'true');
    } else {
      button.textContent = `Show another hint (${shown} of ${hints.length} shown)`;
    }
  }

  private async setUp(): Promise<void> {
    const status = this.root.querySelector<HTMLElement>('.exercise-setup-status');
    if (status) status.textContent = 'Preparing…';
    emit('sidecar-lab:open-terminal', { focus: false });
    try {
      await setUpExercise(this.id);
      if (status) status.textContent = 'Ready: the exercise’s objects are being created in your namespace.';
    } catch (error) {
      if (status) status.textContent = `Could not prepare the exercise: ${describeError(error)}`;
    }
  }
}

for (const root of document.querySelectorAll<HTMLElement>('[data-exercise]')) new ExerciseCheck(root);
