// The Pod picture's pure parts: start order, where boxes and links go, the text alternative, the announcements.
import { describe, expect, it } from 'vitest';
import type { ContainerView, PodView } from '../../sandbox-server/src/protocol/pod-view.ts';
import {
  BOX_W,
  changesBetween,
  describeContainer,
  describePodSummary,
  describeVolume,
  layoutPod,
  rowY,
  startSteps,
} from './pod-view-model.ts';

const container = (name: string, kind: ContainerView['kind'], extra: Partial<ContainerView> = {}): ContainerView => ({
  name,
  kind,
  image: 'busybox',
  state: 'running',
  ready: true,
  restarts: 0,
  ports: [],
  mounts: [],
  ...extra,
});

const pod: PodView = {
  name: 'demo',
  phase: 'Running',
  ready: true,
  deleting: false,
  containers: [
    container('prepare', 'init', { state: 'terminated', reason: 'Completed', exitCode: 0, ready: false }),
    container('shipper', 'sidecar', { mounts: [{ volume: 'logs', path: '/logs', readOnly: true }] }),
    container('web', 'app', {
      image: 'nginx:1.26',
      ports: [{ port: 80, protocol: 'TCP' }],
      mounts: [
        { volume: 'logs', path: '/var/log/nginx', readOnly: false },
        { volume: 'site', path: '/html', readOnly: false },
      ],
    }),
    container('other', 'app'),
  ],
  volumes: [
    { name: 'logs', kind: 'emptyDir' },
    { name: 'site', kind: 'emptyDir' },
  ],
};

describe('startSteps', () => {
  it('numbers init containers and sidecars one by one, and every app container with one step after them', () => {
    expect(startSteps(pod.containers)).toEqual([1, 2, 3, 3]);
    expect(startSteps([container('a', 'app'), container('s', 'sidecar')])).toEqual([1, 2]);
  });
});

describe('layoutPod', () => {
  it('puts boxes left to right in start order and links every mount to its volume', () => {
    const layout = layoutPod(pod);
    expect(layout.boxes.map((b) => b.container.name)).toEqual(['prepare', 'shipper', 'web', 'other']);
    expect(layout.boxes.every((b, i) => i === 0 || b.x >= layout.boxes[i - 1]!.x + BOX_W)).toBe(true);
    expect(layout.links.map((l) => l.volume)).toEqual(['logs', 'logs', 'site']);
    const logs = layout.pills.find((p) => p.name === 'logs')!;
    expect(logs.shared).toBe(true);
    expect(layout.pills.find((p) => p.name === 'site')!.shared).toBe(false);
    for (const link of layout.links) {
      expect(link.from.y).toBe(layout.boxes[0]!.y + layout.boxes[0]!.h);
      const pill = layout.pills.find((p) => p.name === link.volume)!;
      expect(link.to).toEqual({ x: pill.x + pill.w / 2, y: pill.y });
    }
    // Everything fits the drawing.
    for (const p of layout.pills) expect(p.x + p.w).toBeLessThanOrEqual(layout.width);
    expect(layout.boxes.at(-1)!.x + BOX_W).toBeLessThanOrEqual(layout.width);
  });
});

describe('layoutPod, stacked', () => {
  it('stacks boxes in start order and links each mount row to its volume on the right, without overlaps', () => {
    const layout = layoutPod(pod, 'down');
    expect(layout.orientation).toBe('down');
    expect(layout.boxes.every((b, i) => i === 0 || b.y >= layout.boxes[i - 1]!.y + layout.boxes[i - 1]!.h)).toBe(true);
    const web = layout.boxes[2]!;
    const [toLogs, toSite] = layout.links.filter((l) => l.from.y > web.y && l.from.y < web.y + web.h);
    // web's rows: name, image, state, restarts, one port, then its two mounts.
    expect(toLogs!.from).toEqual({ x: web.x + web.w, y: rowY(web, 5) - 4 });
    expect(toSite!.from).toEqual({ x: web.x + web.w, y: rowY(web, 6) - 4 });
    const [logs, site] = layout.pills;
    expect(logs!.x).toBeGreaterThan(web.x + web.w);
    expect(site!.y).toBeGreaterThanOrEqual(logs!.y + 28);
    expect(layout.width).toBeLessThan(layoutPod(pod, 'across').width);
    expect(layout.height).toBeGreaterThanOrEqual(layout.boxes.at(-1)!.y + layout.boxes.at(-1)!.h);
  });
});

describe('the text alternative', () => {
  it('says what each container is, does and shares', () => {
    expect(describePodSummary(pod)).toBe('Pod demo: Running, ready; 1 init, 1 native sidecar, 2 app containers.');
    expect(describeContainer(pod.containers[0]!, 1)).toBe(
      '1. init container prepare, image busybox: terminated (Completed); not ready; 0 restarts.',
    );
    expect(describeContainer({ ...pod.containers[1]!, restarts: 1, lastTermination: 'Error (exit 3)' }, 2)).toBe(
      '2. native sidecar shipper, image busybox: running; ready; 1 restart; last ended Error (exit 3); mounts logs at /logs read-only.',
    );
    expect(describeVolume(pod, pod.volumes[0]!)).toBe(
      'Volume logs (emptyDir), shared: mounted by shipper at /logs and web at /var/log/nginx.',
    );
  });
});

describe('changesBetween', () => {
  it('announces restarts, state changes and Pods that come and go, not the first frame', () => {
    expect(changesBetween(undefined, [pod])).toEqual([]);
    const restarted: PodView = {
      ...pod,
      containers: pod.containers.map((c) =>
        c.name === 'shipper'
          ? { ...c, restarts: 1 }
          : c.name === 'other'
            ? { ...c, state: 'waiting', reason: 'CrashLoopBackOff' }
            : c,
      ),
    };
    expect(changesBetween([pod], [restarted])).toEqual([
      'shipper in demo restarted (1 restarts).',
      'other in demo is waiting (CrashLoopBackOff).',
    ]);
    expect(changesBetween([pod], [{ ...pod, name: 'next' }])).toEqual(['Pod next appeared.', 'Pod demo is gone.']);
    expect(changesBetween([pod], [{ ...pod, deleting: true }])).toEqual(['Pod demo is being deleted.']);
  });
});
