// @ts-check
// Browser side of the server's workshop pages (join by code, join with a name): plain DOM, text only, never innerHTML.

/** @typedef {{ ok: boolean, status: number, json: any }} Reply */

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
   * @returns {Promise<Reply>}
   */
  async function call(method, path, body) {
    /** @type {Record<string, string>} */
    const headers = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
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

  const pages = { join: joinPage, 'join-code': joinCodePage };
  const kind = /** @type {keyof typeof pages | undefined} */ (document.body.dataset.page);
  if (kind && kind in pages) pages[kind]();
})();
