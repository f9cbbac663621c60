// @ts-check
// Browser side of the workshop pages (join, new workshop, live dashboard): plain DOM, text only, never innerHTML.

/**
 * @typedef {{ attempts: number, passed: boolean, last?: 'pass' | 'fail' | 'error', firstPassAt?: string }} Cell
 * @typedef {{ check: string, title: string, learners: Array<{ id: string, name: string }> }} Stuck
 * @typedef {{ id: string, namespace: string, status: string, expiresAt: string }} SandboxInfo
 * @typedef {{ id: string, name: string, joinedAt: string, deadline: string, sandbox: SandboxInfo | null,
 *   cells: Record<string, Cell> }} Learner
 * @typedef {{ id: string, name: string, code: string, status: 'running' | 'over' | 'ended', capacity: number,
 *   createdAt: string, endsAt: string, endedAt?: string, now: string,
 *   exercises: Array<{ id: string, title: string, passed: number, stuck: Stuck | null }>, learners: Learner[] }} State
 * @typedef {{ ok: boolean, status: number, json: any }} Reply
 */

(() => {
  /** @param {string} id */
  const $ = (id) => {
    const element = document.getElementById(id);
    if (!element) throw new Error(`the page has no #${id}`);
    return element;
  };
  /** @param {string} id */
  const input = (id) => /** @type {HTMLInputElement} */ ($(id));

  /**
   * @param {string} tag
   * @param {{ className?: string, text?: string }} [options]
   * @param {Array<Node | string>} [children]
   */
  function el(tag, options = {}, children = []) {
    const element = document.createElement(tag);
    if (options.className) element.className = options.className;
    if (options.text !== undefined) element.textContent = options.text;
    element.append(...children);
    return element;
  }

  /**
   * JSON in and out; never throws, so every caller handles the reply in one place.
   * @param {string} method
   * @param {string} path
   * @param {unknown} [body]
   * @param {string} [token]
   * @returns {Promise<Reply>}
   */
  async function call(method, path, body, token) {
    /** @type {Record<string, string>} */
    const headers = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = `Bearer ${token}`;
    try {
      const response = await fetch(path, {
        method,
        headers,
        credentials: 'same-origin',
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      let json;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch (error) {
        console.warn('sidecar-lab: the server answered with something other than JSON', error);
      }
      return { ok: response.ok, status: response.status, json };
    } catch (error) {
      return {
        ok: false,
        status: 0,
        json: { error: { code: 'network', message: `the server is not reachable (${String(error)})` } },
      };
    }
  }

  /** @param {Reply} reply */
  const problem = (reply) => reply.json?.error?.message ?? `the request failed (HTTP ${reply.status})`;
  /** @param {string} text */
  const sentence = (text) => text.charAt(0).toUpperCase() + text.slice(1);

  /**
   * @param {HTMLElement} element
   * @param {string} text
   * @param {boolean} [error]
   */
  function say(element, text, error = false) {
    element.textContent = text;
    element.classList.toggle('error', error);
  }

  /** Replaces the page with a plain message (full, ended). @param {string} title @param {string} text */
  function showInfo(title, text) {
    const link = el('a', { text: 'Go to the course' });
    link.setAttribute('href', '/');
    $('main').replaceChildren(el('h1', { text: title }), el('p', { text }), el('p', {}, [link]));
    document.title = `${title} · Sidecar Lab`;
  }

  function joinCodePage() {
    const form = /** @type {HTMLFormElement} */ ($('code-form'));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      location.assign(`/join/${encodeURIComponent(input('code').value.trim())}`);
    });
  }

  function joinPage() {
    const form = /** @type {HTMLFormElement} */ ($('join-form'));
    const status = $('join-status');
    const button = /** @type {HTMLButtonElement} */ (form.querySelector('button[type="submit"]'));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      button.disabled = true;
      say(status, 'Preparing your sandbox… this takes a few seconds.');
      const reply = await call('POST', '/api/workshops/join', {
        code: document.body.dataset.code ?? '',
        name: input('name').value,
      });
      if (reply.ok) {
        try {
          // The course page reattaches to the sandbox it remembers: make that the workshop's.
          localStorage.setItem('sidecar-lab:sandbox-id', reply.json.sandbox.id);
        } catch (error) {
          console.warn('sidecar-lab: could not remember the sandbox', error);
        }
        say(status, `Welcome, ${reply.json.learner.name}. Your sandbox is ready; opening the course…`);
        location.assign('/');
        return;
      }
      const code = reply.json?.error?.code;
      if (code === 'workshop_full') return showInfo('This workshop is full', `${sentence(problem(reply))}.`);
      if (code === 'workshop_ended') return showInfo('This workshop has ended', 'Ask your instructor what comes next.');
      say(status, `${sentence(problem(reply))}.`, true);
      button.disabled = false;
    });
  }

  /** "1 h 05 min", "12 min", "time is up". @param {number} ms */
  function timeLeft(ms) {
    if (ms <= 0) return 'time is up';
    const minutes = Math.ceil(ms / 60_000);
    if (minutes < 60) return `${minutes} min`;
    return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
  }
  /** @param {string} iso */
  const clock = (iso) => new Date(iso).toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' });
  /** @param {number} n */
  const tries = (n) => `${n} ${n === 1 ? 'try' : 'tries'}`;

  function dashboardPage() {
    const id = document.body.dataset.workshop ?? '';
    const key = `sidecar-lab:workshop-token:${id}`;
    /** @type {State | undefined} */
    let state;
    /** Server clock minus browser clock, so countdowns follow the server. */
    let skew = 0;
    /** @type {EventSource | undefined} */
    let source;
    let retryMs = 1000;
    let started = false;
    /** @type {Map<string, HTMLTableRowElement>} */
    const rows = new Map();
    /** @type {Map<string, string>} what each cell showed, to flash the ones that change */
    const shown = new Map();

    const storage = () => {
      try {
        return window.sessionStorage;
      } catch (error) {
        console.warn('sidecar-lab: sessionStorage is not available; the token lasts for this page only', error);
        return undefined;
      }
    };
    let token = storage()?.getItem(key) ?? '';
    // The token arrives in the URL fragment (never sent to the server); keep it in this tab and drop it from the URL.
    const fromFragment = new URLSearchParams(location.hash.slice(1)).get('token');
    if (fromFragment) {
      token = fromFragment;
      storage()?.setItem(key, token);
      history.replaceState(null, '', location.pathname + location.search);
    }

    const message = $('message');
    const minutes = () => Math.min(240, Math.max(1, Math.round(Number(input('minutes').value) || 15)));

    /** @param {string} [why] */
    function askForToken(why) {
      source?.close();
      $('board').hidden = true;
      $('token-panel').hidden = false;
      $('ws-title').textContent = 'Workshop dashboard';
      say($('live'), why ?? 'Needs the instructor token', Boolean(why));
      input('token').focus();
    }

    /** @type {HTMLFormElement} */ ($('token-form')).addEventListener('submit', (event) => {
      event.preventDefault();
      token = input('token').value.trim();
      storage()?.setItem(key, token);
      void open();
    });

    async function open() {
      const reply = await call('GET', `/api/workshops/${id}`, undefined, token);
      if (reply.status === 401) {
        storage()?.removeItem(key);
        return askForToken('That token does not open this workshop');
      }
      if (!reply.ok) return say($('live'), `${sentence(problem(reply))}.`, true);
      $('token-panel').hidden = true;
      $('board').hidden = false;
      render(reply.json);
      if (!started) {
        started = true;
        setInterval(tick, 1000);
      }
      void connect();
    }

    /** EventSource cannot send headers: mint a one-minute ticket with the token, then listen with the ticket. */
    async function connect() {
      source?.close();
      const reply = await call('POST', `/api/workshops/${id}/tickets`, {}, token);
      if (reply.status === 401) return askForToken('That token does not open this workshop');
      if (!reply.ok) return reconnectLater();
      source = new EventSource(`/api/workshops/${id}/events?ticket=${encodeURIComponent(reply.json.ticket)}`);
      source.addEventListener('open', () => {
        retryMs = 1000;
        setLive(true);
      });
      source.addEventListener('state', (event) => render(JSON.parse(/** @type {MessageEvent} */ (event).data)));
      // The browser would retry with the same (soon expired) ticket; get a fresh one instead.
      source.addEventListener('error', () => reconnectLater());
    }

    function reconnectLater() {
      source?.close();
      setLive(false);
      setTimeout(() => void connect(), retryMs);
      retryMs = Math.min(retryMs * 2, 15_000);
    }

    /** @param {boolean} on */
    function setLive(on) {
      const live = $('live');
      live.classList.toggle('on', on);
      live.classList.remove('error');
      live.textContent = on ? 'Live' : 'Reconnecting…';
    }

    /** @param {State} next */
    function render(next) {
      state = next;
      skew = Date.parse(next.now) - Date.now();
      document.title = `${next.name} · Workshop dashboard`;
      $('ws-title').textContent = next.name;
      const status = el('span', {
        className: `badge ${next.status}`,
        text: { running: 'Running', over: 'Time is up', ended: 'Ended' }[next.status],
      });
      $('ws-status').replaceChildren(status);
      $('ws-count').textContent = `${next.learners.length} / ${next.capacity}`;
      $('ws-code').textContent = next.code;
      const ended = next.status === 'ended';
      for (const button of ['extend-all', 'end']) /** @type {HTMLButtonElement} */ ($(button)).disabled = ended;
      renderHead(next);
      renderRows(next);
      $('empty').hidden = next.learners.length > 0;
      tick();
    }

    /** @param {State} next */
    function renderHead(next) {
      const head = $('grid-head');
      const cells = [el('th', { text: 'Learner' }), el('th', { text: 'Sandbox' })];
      for (const exercise of next.exercises) {
        const th = el('th', { text: exercise.title }, [
          el('span', { className: 'count', text: `${exercise.passed} / ${next.learners.length} passed` }),
        ]);
        th.title = exercise.id;
        cells.push(th);
      }
      cells.push(el('th', {}, [el('span', { className: 'sr-only', text: 'Actions' })]));
      for (const th of cells) th.setAttribute('scope', 'col');
      head.replaceChildren(...cells);
      renderStuck(next);
    }

    /**
     * Under each exercise's heading, the check most learners fail right now and who they are: "Pod exists — 2
     * learners: Ana, Bo". Hidden while nobody fails anything, so an empty row does not take room.
     * @param {State} next
     */
    function renderStuck(next) {
      const row = $('grid-stuck');
      const label = el('th', { text: 'Most stuck' });
      label.setAttribute('scope', 'row');
      const cells = [label, el('td')];
      for (const exercise of next.exercises) {
        const stuck = exercise.stuck;
        if (!stuck) {
          cells.push(el('td', {}, [el('span', { className: 'sr-only', text: 'Nobody fails a check' })]));
          continue;
        }
        const n = stuck.learners.length;
        const who = `${n} ${n === 1 ? 'learner' : 'learners'}: ${stuck.learners.map((l) => l.name).join(', ')}`;
        const td = el('td', {}, [
          el('div', { className: 'stuck' }, [el('strong', { text: stuck.title }), el('small', { text: `— ${who}` })]),
        ]);
        td.title = `${exercise.title}: ${stuck.check}`;
        cells.push(td);
      }
      cells.push(el('td'));
      row.replaceChildren(...cells);
      row.hidden = next.exercises.every((e) => !e.stuck);
    }

    /** @param {State} next */
    function renderRows(next) {
      const body = $('grid-body');
      const ended = next.status === 'ended';
      const seen = new Set();
      next.learners.forEach((learner, index) => {
        seen.add(learner.id);
        let row = rows.get(learner.id);
        if (!row) {
          row = /** @type {HTMLTableRowElement} */ (el('tr'));
          rows.set(learner.id, row);
        }
        // Rows are kept, not recreated, so focus stays on a button; moving a node would also restart its animations.
        if (body.children[index] !== row) body.insertBefore(row, body.children[index] ?? null);
        const cells = [nameCell(learner), sandboxCell(learner)];
        for (const exercise of next.exercises) cells.push(exerciseCell(learner, exercise.id));
        cells.push(actionsCell(learner, ended));
        syncCells(row, cells);
      });
      for (const [learnerId, row] of rows) {
        if (!seen.has(learnerId)) {
          row.remove();
          rows.delete(learnerId);
        }
      }
    }

    /** Replaces only the cells whose content changed, and flashes changed progress cells. */
    function syncCells(/** @type {HTMLTableRowElement} */ row, /** @type {HTMLElement[]} */ cells) {
      cells.forEach((cell, index) => {
        const old = /** @type {HTMLElement | undefined} */ (row.children[index]);
        if (old && old.dataset.key === cell.dataset.key) return;
        if (old && cell.dataset.flash && shown.has(cell.dataset.flash)) {
          cell.classList.add('flash');
          cell.addEventListener('animationend', () => cell.classList.remove('flash'), { once: true });
        }
        if (cell.dataset.flash) shown.set(cell.dataset.flash, cell.dataset.key ?? '');
        if (old) old.replaceWith(cell);
        else row.append(cell);
      });
      while (row.children.length > cells.length) row.lastElementChild?.remove();
    }

    /** @param {Learner} learner */
    function nameCell(learner) {
      const th = el('th', { text: learner.name });
      th.setAttribute('scope', 'row');
      th.dataset.key = `name:${learner.name}`;
      return th;
    }

    /** @param {Learner} learner */
    function sandboxCell(learner) {
      const sandbox = learner.sandbox;
      const status = sandbox?.status ?? 'none';
      const label = { ready: 'Ready', provisioning: 'Starting', expired: 'Expired', deleting: 'Deleting' }[status];
      const td = el('td', {}, [
        el('div', { className: 'sandbox' }, [
          el('span', { className: `badge ${status}`, text: label ?? 'No sandbox' }),
          ...(sandbox ? [el('small', { text: sandbox.namespace })] : []),
          el('small', { className: 'left', text: '' }),
        ]),
      ]);
      td.dataset.deadline = learner.deadline;
      td.dataset.key = `sandbox:${status}:${sandbox?.namespace}:${learner.deadline}`;
      return td;
    }

    /** @param {Learner} learner @param {string} exercise */
    function exerciseCell(learner, exercise) {
      const cell = learner.cells[exercise] ?? { attempts: 0, passed: false };
      /** @type {Array<Node | string>} */
      let parts;
      let kind;
      if (cell.passed) {
        kind = 'pass';
        const when = cell.firstPassAt ? ` · ${clock(cell.firstPassAt)}` : '';
        parts = [
          el('span', { className: 'mark', text: '✓ Passed' }),
          el('small', { text: tries(cell.attempts) + when }),
        ];
      } else if (cell.attempts > 0) {
        kind = 'fail';
        const mark = cell.last === 'error' ? '! Undecided' : '✗ Not yet';
        parts = [el('span', { className: 'mark', text: mark }), el('small', { text: tries(cell.attempts) })];
      } else {
        kind = 'none';
        parts = [el('span', { className: 'mark', text: '–' }), el('span', { className: 'sr-only', text: 'Not tried' })];
      }
      const td = el('td', { className: kind === 'pass' ? 'pass' : '' }, [
        el('div', { className: `cell ${kind}` }, parts),
      ]);
      td.dataset.key = `cell:${kind}:${cell.attempts}:${cell.last}`;
      td.dataset.flash = `${learner.id}:${exercise}`;
      return td;
    }

    /** @param {Learner} learner @param {boolean} ended */
    function actionsCell(learner, ended) {
      const extend = el('button', { className: 'small', text: 'Extend' });
      extend.setAttribute('aria-label', `Extend ${learner.name}`);
      extend.addEventListener('click', () =>
        act(extend, `/api/workshops/${id}/extend`, { minutes: minutes(), learner: learner.id }, () => {
          return `${learner.name} has ${minutes()} more minutes.`;
        }),
      );
      const reset = el('button', { className: 'small', text: 'Reset' });
      reset.setAttribute('aria-label', `Reset ${learner.name}'s sandbox`);
      reset.addEventListener('click', async () => {
        const sure = await confirmAction(
          `Reset ${learner.name}'s sandbox?`,
          'Their namespace, Pods and files are deleted and a fresh sandbox starts. Their progress on the grid is kept.',
          'Reset sandbox',
        );
        if (sure)
          await act(
            reset,
            `/api/workshops/${id}/learners/${learner.id}/reset`,
            {},
            () => `${learner.name} has a fresh sandbox.`,
          );
      });
      for (const button of [extend, reset]) /** @type {HTMLButtonElement} */ (button).disabled = ended;
      const td = el('td', {}, [el('div', { className: 'row-actions' }, [extend, reset])]);
      td.dataset.key = `actions:${ended}:${learner.name}`;
      return td;
    }

    /**
     * Runs an instructor action; the reply is the new state.
     * @param {HTMLElement} button @param {string} path @param {unknown} body @param {(reply: Reply) => string} done
     */
    async function act(button, path, body, done) {
      const b = /** @type {HTMLButtonElement} */ (button);
      b.disabled = true;
      say(message, 'Working…');
      const reply = await call('POST', path, body, token);
      b.disabled = false;
      if (reply.status === 401) return askForToken('That token does not open this workshop');
      if (!reply.ok) return say(message, `${sentence(problem(reply))}.`, true);
      say(message, done(reply));
      if (reply.json?.state) render(reply.json.state);
    }

    /** A modal yes/no, keyboard-friendly. @param {string} title @param {string} text @param {string} ok */
    function confirmAction(title, text, ok) {
      const dialog = /** @type {HTMLDialogElement} */ ($('confirm'));
      $('confirm-title').textContent = title;
      $('confirm-text').textContent = text;
      $('confirm-ok').textContent = ok;
      dialog.returnValue = '';
      dialog.showModal();
      $('confirm-cancel').focus();
      return new Promise((resolve) => {
        dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
      });
    }

    /** Countdowns, once a second, against the server's clock. */
    function tick() {
      if (!state) return;
      const now = Date.now() + skew;
      const over = state.status === 'ended' ? '–' : timeLeft(Date.parse(state.endsAt) - now);
      $('ws-time').textContent = over;
      for (const td of document.querySelectorAll('#grid-body td[data-deadline]')) {
        const left = td.querySelector('.left');
        const deadline = /** @type {HTMLElement} */ (td).dataset.deadline ?? '';
        if (left) left.textContent = state.status === 'ended' ? '' : `${timeLeft(Date.parse(deadline) - now)} left`;
      }
    }

    $('extend-all').addEventListener('click', (event) =>
      act(
        /** @type {HTMLElement} */ (event.currentTarget),
        `/api/workshops/${id}/extend`,
        { minutes: minutes() },
        () => {
          return `Everyone has ${minutes()} more minutes.`;
        },
      ),
    );

    $('end').addEventListener('click', async (event) => {
      const button = /** @type {HTMLElement} */ (event.currentTarget);
      const sure = await confirmAction(
        'End this workshop?',
        "Every learner's sandbox is deleted now. The grid stays here, and you can still export the results.",
        'End workshop',
      );
      if (sure) {
        await act(button, `/api/workshops/${id}/end`, {}, (reply) => {
          const n = reply.json.deleted;
          return `Workshop ended: ${n} ${n === 1 ? 'sandbox' : 'sandboxes'} deleted. The results stay for the export.`;
        });
      }
    });

    $('copy-link').addEventListener('click', async () => {
      const link = `${location.origin}/join/${state?.code ?? ''}`;
      try {
        await navigator.clipboard.writeText(link);
        say(message, `Copied ${link}`);
      } catch (error) {
        console.warn('sidecar-lab: clipboard not available', error);
        say(message, `Join link: ${link}`);
      }
    });

    /** Downloads need the token too, so fetch them and hand the browser a blob. @param {'csv' | 'json'} format */
    async function download(format) {
      try {
        const response = await fetch(`/api/workshops/${id}/export.${format}`, {
          headers: { Authorization: `Bearer ${token}` },
        });
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
        say(message, `The export failed: ${String(error)}`, true);
      }
    }
    $('export-csv').addEventListener('click', () => void download('csv'));
    $('export-json').addEventListener('click', () => void download('json'));

    if (token) void open();
    else askForToken();
  }

  const pages = { join: joinPage, 'join-code': joinCodePage, dashboard: dashboardPage };
  const kind = /** @type {keyof typeof pages | undefined} */ (document.body.dataset.page);
  if (kind && kind in pages) pages[kind]();
})();
