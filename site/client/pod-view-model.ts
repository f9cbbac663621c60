// Pure parts of the Pod picture: where each box and link goes, what the text alternative says, and what changed
// between two frames. No DOM here, so unit tests cover them.
import type { ContainerView, PodView } from '../../sandbox-server/src/protocol/pod-view.ts';

export const BOX_W = 212;
/** Stacked boxes have the width to spare for long mount paths. */
const BOX_W_DOWN = 250;
const GAP = 30;
const PAD = 18;
const HEADER = 34;
const LINE = 17;
const PILL_H = 28;
const LINK_DROP = 56;

/** Boxes side by side with volumes underneath (wide), or stacked with volumes to the right (a lesson's column). */
export type Orientation = 'across' | 'down';

export interface Box {
  container: ContainerView;
  /** Start position: init containers and sidecars one after another, then every app container at once. */
  step: number;
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Pill {
  name: string;
  kind: string;
  x: number;
  y: number;
  w: number;
  /** Palette slot, so a volume's pill, links and mount rows share a colour. */
  hue: number;
  shared: boolean;
}

export interface Link {
  volume: string;
  hue: number;
  from: { x: number; y: number };
  to: { x: number; y: number };
}

export interface PodLayout {
  orientation: Orientation;
  width: number;
  height: number;
  boxes: Box[];
  pills: Pill[];
  links: Link[];
}

/** Text rows a box shows under its header: name, image, state, ready and restarts, then ports and mounts. */
export const rowsOf = (c: ContainerView) => 4 + c.ports.length + c.mounts.length;

/** The position in the start sequence of each container, 1-based. */
export function startSteps(containers: readonly ContainerView[]): number[] {
  let step = 0;
  let appStep = 0;
  return containers.map((c) => {
    if (c.kind !== 'app') return ++step;
    appStep ||= ++step;
    return appStep;
  });
}

/** Where, in a box, the text row `row` (0-based: name, image, state, restarts, ports, mounts) has its baseline. */
export const rowY = (box: Box, row: number) => box.y + HEADER + 14 + LINE * row;

const heightOf = (rows: number) => HEADER + LINE * Math.max(4, rows) + 10;

/** How many users each volume has (containers that mount it, each counted once). */
function usersOf(pod: PodView): Map<string, number> {
  const users = new Map<string, number>();
  for (const c of pod.containers) {
    for (const v of new Set(c.mounts.map((m) => m.volume))) users.set(v, (users.get(v) ?? 0) + 1);
  }
  return users;
}

const pillWidth = (v: { name: string; kind: string }) => Math.max(120, 7.2 * (v.name.length + v.kind.length) + 40);

export function layoutPod(pod: PodView, orientation: Orientation = 'across'): PodLayout {
  return orientation === 'down' ? layoutDown(pod) : layoutAcross(pod);
}

/** Stacked: each box as tall as its rows, volumes in a column on the right, each beside the rows that mount it. */
function layoutDown(pod: PodView): PodLayout {
  const steps = startSteps(pod.containers);
  const top = 40;
  let y = top;
  const boxes = pod.containers.map((container, i) => {
    const box: Box = { container, step: steps[i] ?? i + 1, x: PAD, y, w: BOX_W_DOWN, h: heightOf(rowsOf(container)) };
    y += box.h + 26;
    return box;
  });
  const bottom = Math.max(top, y - 26);
  const users = usersOf(pod);
  const pillX = PAD + BOX_W_DOWN + 86;
  // Each pill goes level with the mean of the rows that mount it, then pills are pushed apart so none overlap.
  const wanted = pod.volumes.map((v, i) => {
    const rows = boxes.flatMap((b) =>
      b.container.mounts.flatMap((m, k) =>
        m.volume === v.name ? [rowY(b, 4 + b.container.ports.length + k) - 4] : [],
      ),
    );
    const mid = rows.length ? rows.reduce((a, r) => a + r, 0) / rows.length : bottom;
    return { v, i, y: mid - PILL_H / 2 };
  });
  wanted.sort((a, b) => a.y - b.y);
  let floor = top;
  const pills: Pill[] = [];
  for (const { v, i, y: want } of wanted) {
    const py = Math.max(want, floor);
    floor = py + PILL_H + 12;
    pills[i] = {
      name: v.name,
      kind: v.kind,
      x: pillX,
      y: py,
      w: pillWidth(v),
      hue: i % 6,
      shared: (users.get(v.name) ?? 0) > 1,
    };
  }
  const byName = new Map(pills.map((p) => [p.name, p]));
  const links: Link[] = [];
  for (const box of boxes) {
    box.container.mounts.forEach((mount, k) => {
      const pill = byName.get(mount.volume);
      if (!pill) return;
      links.push({
        volume: mount.volume,
        hue: pill.hue,
        from: { x: box.x + box.w, y: rowY(box, 4 + box.container.ports.length + k) - 4 },
        to: { x: pill.x, y: pill.y + PILL_H / 2 },
      });
    });
  }
  const widest = Math.max(0, ...pills.map((p) => p.w));
  const width = pills.length ? pillX + widest + PAD : PAD * 2 + BOX_W_DOWN;
  const height = Math.max(bottom, ...pills.map((p) => p.y + PILL_H)) + PAD;
  return { orientation: 'down', width, height, boxes, pills, links };
}

function layoutAcross(pod: PodView): PodLayout {
  const steps = startSteps(pod.containers);
  const boxHeight = heightOf(Math.max(0, ...pod.containers.map(rowsOf)));
  const top = 40;
  const boxes = pod.containers.map((container, i) => ({
    container,
    step: steps[i] ?? i + 1,
    x: PAD + i * (BOX_W + GAP),
    y: top,
    w: BOX_W,
    h: boxHeight,
  }));
  const contentWidth = Math.max(boxes.length * (BOX_W + GAP) - GAP, 320);
  const users = usersOf(pod);
  const pillY = top + boxHeight + LINK_DROP;
  const widths = pod.volumes.map(pillWidth);
  const total = widths.reduce((a, b) => a + b, 0) + Math.max(0, widths.length - 1) * GAP;
  let x = PAD + Math.max(0, (contentWidth - total) / 2);
  const pills = pod.volumes.map((v, i) => {
    const pill: Pill = {
      name: v.name,
      kind: v.kind,
      x,
      y: pillY,
      w: widths[i] ?? 120,
      hue: i % 6,
      shared: (users.get(v.name) ?? 0) > 1,
    };
    x += pill.w + GAP;
    return pill;
  });
  const byName = new Map(pills.map((p) => [p.name, p]));
  const links: Link[] = [];
  for (const box of boxes) {
    const mounts = box.container.mounts;
    mounts.forEach((mount, i) => {
      const pill = byName.get(mount.volume);
      if (!pill) return;
      links.push({
        volume: mount.volume,
        hue: pill.hue,
        from: { x: box.x + (BOX_W * (i + 1)) / (mounts.length + 1), y: box.y + boxHeight },
        to: { x: pill.x + pill.w / 2, y: pill.y },
      });
    });
  }
  const width = Math.max(PAD * 2 + contentWidth, x - GAP + PAD);
  const height = pod.volumes.length ? pillY + PILL_H + PAD : top + boxHeight + PAD;
  return { orientation: 'across', width, height, boxes, pills, links };
}

const KIND_WORDS = { init: 'init container', sidecar: 'native sidecar', app: 'app container' } as const;

export function describeState(c: ContainerView): string {
  const why = c.reason
    ? ` (${c.reason}${c.exitCode !== undefined && c.reason !== 'Completed' ? `, exit ${c.exitCode}` : ''})`
    : '';
  return `${c.state}${why}`;
}

/** One sentence per container for screen readers, in start order. */
export function describeContainer(c: ContainerView, step: number): string {
  const parts = [
    `${step}. ${KIND_WORDS[c.kind]} ${c.name}, image ${c.image}: ${describeState(c)}`,
    c.ready ? 'ready' : 'not ready',
    `${c.restarts} ${c.restarts === 1 ? 'restart' : 'restarts'}`,
  ];
  if (c.lastTermination) parts.push(`last ended ${c.lastTermination}`);
  if (c.ports.length) parts.push(`ports ${c.ports.map((p) => `${p.port}/${p.protocol}`).join(', ')}`);
  if (c.mounts.length) {
    parts.push(`mounts ${c.mounts.map((m) => `${m.volume} at ${m.path}${m.readOnly ? ' read-only' : ''}`).join(', ')}`);
  }
  return `${parts.join('; ')}.`;
}

/** A sentence per volume: who mounts it and where, which is what "shared" means in a picture of sidecars. */
export function describeVolume(pod: PodView, volume: { name: string; kind: string }): string {
  const users = pod.containers.flatMap((c) =>
    c.mounts.filter((m) => m.volume === volume.name).map((m) => `${c.name} at ${m.path}`),
  );
  const how = users.length ? `mounted by ${users.join(' and ')}` : 'not mounted';
  return `Volume ${volume.name} (${volume.kind}), ${users.length > 1 ? 'shared: ' : ''}${how}.`;
}

export function describePodSummary(pod: PodView): string {
  const counts = { init: 0, sidecar: 0, app: 0 };
  for (const c of pod.containers) counts[c.kind]++;
  const kinds = [
    counts.init && `${counts.init} init`,
    counts.sidecar && `${counts.sidecar} native sidecar${counts.sidecar > 1 ? 's' : ''}`,
    counts.app && `${counts.app} app container${counts.app > 1 ? 's' : ''}`,
  ].filter(Boolean);
  const state = pod.deleting ? 'being deleted' : `${pod.phase}, ${pod.ready ? 'ready' : 'not ready'}`;
  return `Pod ${pod.name}: ${state}; ${kinds.join(', ') || 'no containers'}.`;
}

/** What a learner should hear about between two frames: Pods that came or went, restarts, state changes. */
export function changesBetween(before: readonly PodView[] | undefined, after: readonly PodView[]): string[] {
  if (!before) return [];
  const old = new Map(before.map((p) => [p.name, p]));
  const messages: string[] = [];
  for (const pod of after) {
    const prev = old.get(pod.name);
    if (!prev) {
      messages.push(`Pod ${pod.name} appeared.`);
      continue;
    }
    old.delete(pod.name);
    if (pod.deleting && !prev.deleting) messages.push(`Pod ${pod.name} is being deleted.`);
    const prevContainers = new Map(prev.containers.map((c) => [c.name, c]));
    for (const c of pod.containers) {
      const p = prevContainers.get(c.name);
      if (!p) continue;
      if (c.restarts > p.restarts) messages.push(`${c.name} in ${pod.name} restarted (${c.restarts} restarts).`);
      else if (c.state !== p.state || c.reason !== p.reason)
        messages.push(`${c.name} in ${pod.name} is ${describeState(c)}.`);
    }
  }
  for (const name of old.keys()) messages.push(`Pod ${name} is gone.`);
  return messages;
}
