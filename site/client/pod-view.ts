// The Pod picture: the learner's Pods as boxes, live from the server's namespace watch (Server-Sent Events, no
// polling). Loaded with import() when a learner opens a <PodView />; ./pod-view-model.ts holds the pure parts.
import { type PodsFrame, type PodView, podsFrame } from '../../sandbox-server/src/protocol/pod-view.ts';
import { backoffDelay } from './backoff.ts';
import {
  changesBetween,
  describeContainer,
  describePodSummary,
  describeState,
  describeVolume,
  layoutPod,
  type PodLayout,
  rowY,
} from './pod-view-model.ts';
import { previewUrl } from './preview.ts';
import { confirmSandbox } from './sandbox.ts';

const SVG = 'http://www.w3.org/2000/svg';
const KIND_LABEL = { init: 'INIT', sidecar: 'SIDECAR', app: 'APP' } as const;
/** Characters that fit a text row of a box `width` wide at the picture's font size. */
const fitIn = (width: number) => Math.floor((width - 24) / 7.1);
const FIT = fitIn(212);

/** What the page learns from each drawn frame; the e2e tests and the latency measurement listen for it. */
export interface PodViewFrameDetail {
  /** Server time the frame was built. */
  at: number;
  /** Page time it was drawn (same clock as `Date.now()`). */
  drawnAt: number;
  pods: string[];
  /** Pods shown as being deleted. */
  deleting: string[];
}

type Attrs = Record<string, string | number>;

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Attrs, text?: string): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function html<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const shorten = (text: string, max = FIT) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** A text line that shows the whole value on hover when it had to be shortened. */
function label(x: number, y: number, text: string, className: string, max = FIT): SVGTextElement {
  const node = svg('text', { x, y, class: className }, shorten(text, max));
  if (text.length > max) node.append(svg('title', {}, text));
  return node;
}

function stateClass(c: PodView['containers'][number]): string {
  if (c.state === 'running') return c.ready ? 'ok' : 'starting';
  if (c.state === 'terminated') return c.exitCode === 0 ? 'done' : 'bad';
  if (c.reason && /BackOff|Err|Invalid/.test(c.reason)) return 'bad';
  return 'starting';
}

function drawPod(pod: PodView, layout: PodLayout, bumped: Set<string>): SVGSVGElement {
  const root = svg('svg', {
    viewBox: `0 0 ${layout.width} ${layout.height}`,
    width: layout.width,
    class: 'pv-svg',
    'aria-hidden': 'true',
    'data-pod': pod.name,
  });
  root.append(
    svg('rect', { x: 1, y: 1, width: layout.width - 2, height: layout.height - 2, rx: 12, class: 'pv-pod' }),
    label(18, 26, `Pod ${pod.name}`, 'pv-pod-name', 40),
    svg(
      'text',
      { x: layout.width - 18, y: 26, class: `pv-pod-state pv-${pod.deleting ? 'bad' : pod.ready ? 'ok' : 'starting'}` },
      pod.deleting ? 'Terminating' : `${pod.phase} · ${pod.ready ? 'Ready' : 'not ready'}`,
    ),
  );

  // Start order: an arrow from each box to the next that starts after it (app containers start together).
  const across = layout.orientation === 'across';
  layout.boxes.forEach((box, i) => {
    const next = layout.boxes[i + 1];
    if (!next || next.step === box.step) return;
    if (across) {
      const y = box.y + 17;
      root.append(svg('path', { d: `M${box.x + box.w + 4},${y} h${next.x - box.x - box.w - 12}`, class: 'pv-order' }));
      root.append(svg('path', { d: `M${next.x - 9},${y - 4} l5,4 l-5,4`, class: 'pv-order' }));
    } else {
      const x = box.x + 30;
      root.append(svg('path', { d: `M${x},${box.y + box.h + 3} V${next.y - 4}`, class: 'pv-order' }));
      root.append(svg('path', { d: `M${x - 4},${next.y - 9} l4,5 l4,-5`, class: 'pv-order' }));
    }
  });

  for (const link of layout.links) {
    const { from, to } = link;
    const d = across
      ? `M${from.x},${from.y} C${from.x},${(from.y + to.y) / 2} ${to.x},${(from.y + to.y) / 2} ${to.x},${to.y}`
      : `M${from.x},${from.y} C${from.x + 45},${from.y} ${to.x - 45},${to.y} ${to.x},${to.y}`;
    root.append(svg('path', { d, class: `pv-link pv-hue-${link.hue}` }));
  }

  for (const box of layout.boxes) {
    const c = box.container;
    const g = svg('g', {
      class: `pv-container pv-${c.kind}${c.state === 'terminated' && c.kind === 'init' ? ' pv-finished' : ''}`,
      'data-container': c.name,
    });
    g.append(svg('rect', { x: box.x, y: box.y, width: box.w, height: box.h, rx: 8, class: 'pv-box' }));
    const fit = fitIn(box.w);
    const badge = `${box.step} · ${KIND_LABEL[c.kind]}`;
    g.append(
      svg('rect', { x: box.x + 8, y: box.y + 8, width: badge.length * 7 + 12, height: 18, rx: 9, class: 'pv-badge' }),
    );
    g.append(svg('text', { x: box.x + 14, y: box.y + 21, class: 'pv-badge-text' }, badge));
    g.append(
      svg(
        'text',
        { x: box.x + box.w - 10, y: box.y + 21, class: `pv-ready pv-${c.ready ? 'ok' : 'muted'}` },
        c.ready ? '✓ ready' : 'not ready',
      ),
    );
    let y = rowY(box, 0);
    const row = (node: SVGElement) => {
      g.append(node);
      y += 17;
    };
    row(label(box.x + 12, y, c.name, 'pv-name', fit - 5));
    row(label(box.x + 12, y, c.image, 'pv-image', fit));
    const state = stateClass(c);
    g.append(svg('circle', { cx: box.x + 16, cy: y - 4, r: 4.5, class: `pv-dot pv-${state}` }));
    row(label(box.x + 26, y, describeState(c), `pv-state pv-${state}`, fit - 2));
    const restarts = `restarts: ${c.restarts}${c.lastTermination ? ` · ${c.lastTermination}` : ''}`;
    row(
      label(
        box.x + 12,
        y,
        restarts,
        `pv-restarts${c.restarts > 0 ? ' pv-has-restarts' : ''}${bumped.has(`${pod.name}/${c.name}`) ? ' pv-bumped' : ''}`,
        fit,
      ),
    );
    for (const port of c.ports)
      row(
        label(
          box.x + 12,
          y,
          `⇄ port ${port.port}/${port.protocol}${port.name ? ` (${port.name})` : ''}`,
          'pv-port',
          fit,
        ),
      );
    for (const mount of c.mounts) {
      const hue = layout.pills.find((p) => p.name === mount.volume)?.hue ?? 0;
      g.append(svg('rect', { x: box.x + 12, y: y - 9, width: 8, height: 8, rx: 2, class: `pv-swatch pv-hue-${hue}` }));
      row(label(box.x + 25, y, `${mount.path}${mount.readOnly ? ' (ro)' : ''} ← ${mount.volume}`, 'pv-mount', fit - 2));
    }
    root.append(g);
  }

  for (const pill of layout.pills) {
    const g = svg('g', { class: `pv-volume${pill.shared ? ' pv-shared' : ''}`, 'data-volume': pill.name });
    g.append(
      svg('rect', { x: pill.x, y: pill.y, width: pill.w, height: 28, rx: 14, class: `pv-pill pv-hue-${pill.hue}` }),
    );
    g.append(
      svg('text', { x: pill.x + pill.w / 2, y: pill.y + 18, class: 'pv-pill-text' }, `${pill.name} · ${pill.kind}`),
    );
    root.append(g);
  }
  return root;
}

/** The text alternative: the same facts as sentences and lists, for screen readers. */
function describePod(pod: PodView, layout: PodLayout): HTMLElement {
  const part = html('div', 'pv-text-pod');
  part.append(html('h4', '', describePodSummary(pod)));
  const containers = html('ol', '');
  containers.setAttribute('aria-label', `Containers of ${pod.name} in start order`);
  for (const box of layout.boxes) containers.append(html('li', '', describeContainer(box.container, box.step)));
  part.append(containers);
  if (pod.volumes.length) {
    const volumes = html('ul', '');
    volumes.setAttribute('aria-label', `Volumes of ${pod.name}`);
    for (const v of pod.volumes) volumes.append(html('li', '', describeVolume(pod, v)));
    part.append(volumes);
  }
  return part;
}

export function mountPodView(host: HTMLElement, sandboxId: string): { dispose(): void } {
  const status = html('p', 'pv-status', 'Connecting…');
  const pictures = html('div', 'pv-pictures');
  const text = html('div', 'visually-hidden');
  const live = html('p', 'visually-hidden');
  live.setAttribute('role', 'status');
  const legend = html(
    'p',
    'pv-legend',
    'Numbers are the start order: init containers run to completion one by one, native sidecars start next and keep running, app containers start last, together. Coloured lines join containers to the volumes they mount.',
  );
  // A Preview link for every TCP container port: the Pod's page in a tab of its own, in an opaque origin (./preview.ts).
  const previews = html('p', 'pv-previews');
  host.replaceChildren(status, pictures, previews, text, legend, live);

  let previous: PodView[] | undefined;
  let source: EventSource | undefined;
  let attempt = 0;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let disposed = false;

  let room = 0;
  /** Side by side where it fits without shrinking the text much, stacked otherwise (a lesson's column). */
  function paint(pods: PodView[], bumped = new Set<string>()): void {
    room = pictures.clientWidth || host.clientWidth;
    const drawn = pods.map((pod) => {
      const across = layoutPod(pod, 'across');
      return { pod, layout: room && across.width * 0.85 > room ? layoutPod(pod, 'down') : across };
    });
    pictures.replaceChildren(...drawn.map(({ pod, layout }) => drawPod(pod, layout, bumped)));
    text.replaceChildren(...drawn.map(({ pod, layout }) => describePod(pod, layout)));
    previews.replaceChildren(
      ...pods.flatMap((pod) =>
        pod.containers.flatMap((c) =>
          c.ports
            .filter((port) => port.protocol === 'TCP')
            .map((port) => {
              const link = html('a', '', `Preview ${pod.name} port ${port.port}`);
              link.href = previewUrl(sandboxId, pod.name, port.port);
              link.target = '_blank';
              link.rel = 'noopener noreferrer';
              return link;
            }),
        ),
      ),
    );
    if (pods.length === 0) {
      pictures.append(html('p', 'pv-empty', 'No Pods yet. Apply one in the terminal and it appears here.'));
      text.append(html('p', '', 'Your namespace has no Pods yet.'));
    }
  }
  // A wider or narrower place (the terminal resized, a phone turned) may suit the other layout.
  const resized = new ResizeObserver(() => {
    if (previous && Math.abs(pictures.clientWidth - room) > 40) paint(previous);
  });
  resized.observe(pictures);

  function draw(frame: PodsFrame): void {
    const bumped = new Set<string>();
    const before = new Map(
      (previous ?? []).flatMap((p) => p.containers.map((c) => [`${p.name}/${c.name}`, c.restarts])),
    );
    for (const pod of frame.pods) {
      for (const c of pod.containers)
        if (c.restarts > (before.get(`${pod.name}/${c.name}`) ?? c.restarts)) bumped.add(`${pod.name}/${c.name}`);
    }
    const changes = changesBetween(previous, frame.pods);
    previous = frame.pods;
    paint(frame.pods, bumped);
    const time = new Date(frame.at).toLocaleTimeString();
    status.textContent = `Live · ${frame.pods.length} ${frame.pods.length === 1 ? 'Pod' : 'Pods'} · updated ${time}`;
    if (changes.length) live.textContent = changes.slice(0, 4).join(' ');
    const detail: PodViewFrameDetail = {
      at: frame.at,
      drawnAt: Date.now(),
      pods: frame.pods.map((p) => p.name),
      deleting: frame.pods.filter((p) => p.deleting).map((p) => p.name),
    };
    host.dispatchEvent(new CustomEvent('sidecar-lab:pod-view-frame', { detail, bubbles: true }));
  }

  function connect(): void {
    const events = new EventSource(`/api/sandboxes/${encodeURIComponent(sandboxId)}/pods`);
    source = events;
    events.addEventListener('pods', (event) => {
      attempt = 0;
      const parsed = podsFrame.safeParse(JSON.parse((event as MessageEvent<string>).data));
      if (parsed.success) draw(parsed.data);
      else console.warn('sidecar-lab: ignored a Pod picture frame that does not fit the model', parsed.error);
    });
    events.addEventListener('error', () => {
      // EventSource retries a dropped stream by itself; a refused one (404, 5xx) it gives up on, and so must we.
      if (events.readyState !== EventSource.CLOSED || disposed) {
        status.textContent = 'Reconnecting…';
        return;
      }
      const delay = backoffDelay(attempt++);
      status.textContent = `Connection lost; trying again in ${Math.ceil(delay / 1000)} s`;
      retry = setTimeout(async () => {
        if ((await confirmSandbox()) === 'gone') {
          status.textContent = 'Your sandbox has ended.';
          return;
        }
        if (!disposed) connect();
      }, delay);
    });
  }

  connect();
  return {
    dispose() {
      disposed = true;
      resized.disconnect();
      clearTimeout(retry);
      source?.close();
      host.replaceChildren();
    },
  };
}
