// Exercise: a data-synchronisation sidecar (seed section 2, "Data Synchronization"). The setup runs the source, a Pod
// that publishes its files as one archive; the checker adds, changes and removes files there at check time and
// watches main-app's answers follow (see checks/sync.ts).
import { containersPresent, containersRunning, fail, pass, podExists, withPod } from '../checks/common.ts';
import { findContainer, mountsCovering } from '../checks/pods.ts';
import {
  changeAtSource,
  checkerContent,
  checkerFileName,
  type SyncSource,
  type SyncTarget,
  servedEvidence,
  servesContent,
  servesNotFound,
  waitForServed,
} from '../checks/sync.ts';
import { seconds } from '../checks/timing.ts';
import type { CheckDefinitionInput } from '../model.ts';
import { defineExercise } from '../model.ts';

const POD = 'synced-site';
const WEB_ROOT = '/usr/share/nginx/html';
/** The goal promises 15 s; the checker allows a little more for a busy node. */
const IN_STEP_MS = 20_000;
const SOURCE: SyncSource = { pod: 'content-source', container: 'source', dir: '/srv/site' };
const TARGET: SyncTarget = { pod: POD, main: 'main-app', webRoot: WEB_ROOT, askFrom: ['main-app', 'content-sync'] };

/** A check that plants a file at the source for the time `use` runs, and removes it afterwards. */
function withSourceFile(
  id: string,
  title: string,
  hint: string,
  use: (name: string, ctx: Parameters<CheckDefinitionInput['run']>[0]) => ReturnType<CheckDefinitionInput['run']>,
): CheckDefinitionInput {
  return {
    id,
    title,
    hint,
    requires: ['shares-web-root', 'containers-running'],
    // Up to three waits of IN_STEP_MS, and the execs between them.
    timeoutMs: 75_000,
    run: withPod(POD, async (_pod, ctx) => {
      const name = checkerFileName();
      try {
        return await use(name, ctx);
      } finally {
        await changeAtSource(ctx, SOURCE, name, undefined);
      }
    }),
  };
}

/** Writes `content` at the source and waits until main-app serves it from its web root; a verdict when it does not. */
async function expectServed(
  ctx: Parameters<CheckDefinitionInput['run']>[0],
  name: string,
  content: string,
  what: string,
) {
  const error = await changeAtSource(ctx, SOURCE, name, content);
  if (error) return fail(`The checker could not write ${what} at the source (${SOURCE.pod}): ${error}.`);
  const waited = await waitForServed(ctx, TARGET, name, servesContent(content), IN_STEP_MS);
  const evidence = { file: name, content, waitedMs: waited.waitedMs, last: servedEvidence(waited.last) };
  if (!waited.ok) {
    const answer = waited.last?.probe.status === undefined ? 'no answer' : `HTTP ${waited.last.probe.status}`;
    return fail(
      `The checker wrote ${what} (${SOURCE.dir}/${name} in ${SOURCE.pod}); ${seconds(waited.waitedMs)} later main-app still answered ${answer}${waited.last?.probe.status === 200 ? ' with other content' : ''} for /${name}: the sidecar does not keep copying the source into the shared volume.`,
      evidence,
    );
  }
  if (!waited.last?.local?.includes(content)) {
    return fail(
      `main-app answered /${name} with the new content, but ${WEB_ROOT}/${name} in main-app does not hold it: main-app must serve the copy the sidecar keeps in the shared volume.`,
      evidence,
    );
  }
  return pass(`served after ${seconds(waited.waitedMs)}`, evidence);
}

export default defineExercise({
  id: 'data-sync',
  title: 'A data-sync sidecar',
  goal: `Press **Set up** first: it creates \`content-source\`, a Pod (and Service) standing in for external storage. It
publishes all its files as one archive at \`http://content-source/site.tar\`.

Create a Pod named \`${POD}\` where:

- \`main-app\` runs \`nginx:1.26\` and serves its web root, \`${WEB_ROOT}\`, from a volume it shares with the sidecar;
- \`content-sync\` keeps that volume in step with the source: a file added or changed at the source is served by
  main-app within 15 seconds, and a file removed at the source is gone (HTTP 404) within 15 seconds. It may be an
  ordinary container or a native sidecar.

The check adds a file of its own at the source, changes it, and removes it, and asks main-app for it each time; the
file must lie in main-app's web root (main-app serves the copy, it does not fetch from the source).`,
  hints: [
    'Share one emptyDir volume: main-app mounts it at /usr/share/nginx/html, content-sync wherever it likes.',
    'busybox has `wget` and `tar`: `wget -q -O /tmp/site.tar http://content-source/site.tar && tar -x -f /tmp/site.tar -C <folder>` fetches and unpacks the whole set. Repeat it in a loop with a short sleep.',
    'Unpacking over the old files keeps files the source has removed. Unpack into a fresh folder, then make the volume hold exactly that (empty it and copy, or remove what the archive lacks).',
    'A sidecar that works: `while true; do rm -rf /tmp/next && mkdir /tmp/next; if wget -q -O /tmp/site.tar http://content-source/site.tar && tar -x -f /tmp/site.tar -C /tmp/next; then rm -rf /site/* && cp -a /tmp/next/. /site/; fi; sleep 3; done`, with the volume mounted at /site.',
  ],
  // Mutants of the solution that are still correct by the goal's words (see `npm run exercises:mutate`).
  equivalentMutants: [
    { id: 'to-native:content-sync', why: 'the goal allows a native sidecar (accepted/native-prune.yaml is one)' },
    {
      id: 'to-container:content-sync@accepted/native-prune',
      why: 'an ordinary sync container is what the reference solution has',
    },
  ],
  checks: [
    containersRunning(SOURCE.pod, [SOURCE.container], {
      id: 'source-running',
      title: 'The source, content-source, is running',
      hint: 'Press "Set up" above the goal: it creates the content-source Pod and Service.',
      requires: [],
    }),
    podExists(POD),
    containersPresent(
      POD,
      'containers-present',
      'The Pod has "main-app" (nginx) and "content-sync"',
      [{ name: 'main-app', image: 'nginx', nativeAllowed: false, role: 'the application' }, { name: 'content-sync' }],
      'Name the containers exactly "main-app" and "content-sync"; main-app runs nginx:1.26.',
    ),
    {
      id: 'shares-web-root',
      title: `main-app's web root (${WEB_ROOT}) is a volume content-sync mounts too`,
      hint: `Mount one volume in main-app at ${WEB_ROOT} and in content-sync.`,
      requires: ['containers-present'],
      run: withPod(POD, (pod) => {
        const main = findContainer(pod, 'main-app');
        const sync = findContainer(pod, 'content-sync');
        const rootVolumes = main ? mountsCovering(main.spec, `${WEB_ROOT}/index.html`).map((m) => m.name) : [];
        const shared = sync?.spec.volumeMounts.find((m) => rootVolumes.includes(m.name));
        const evidence = { mainApp: main?.spec.volumeMounts, contentSync: sync?.spec.volumeMounts };
        if (rootVolumes.length === 0) {
          return fail(
            `main-app mounts no volume at ${WEB_ROOT}, so nothing the sidecar writes can reach nginx.`,
            evidence,
          );
        }
        if (!shared) {
          return fail(
            `content-sync does not mount the volume main-app serves (${rootVolumes.join(', ')}), so its copies never reach nginx.`,
            evidence,
          );
        }
        return pass(
          `main-app serves volume "${shared.name}", which content-sync mounts at ${shared.mountPath}.`,
          evidence,
        );
      }),
    },
    containersRunning(POD, ['main-app', 'content-sync'], { requires: ['containers-present'] }),
    withSourceFile(
      'source-changes-served',
      'A file added at the source, then changed, is served by main-app within 15 seconds each time',
      'The sidecar must copy again and again (a loop), replacing files whose content changed.',
      async (name, ctx) => {
        const first = await expectServed(ctx, name, checkerContent(), 'a new file');
        if (first.status === 'fail') return first;
        const second = await expectServed(ctx, name, checkerContent(), 'a new content for the same file');
        if (second.status === 'fail') return second;
        return pass(
          `A new file at the source was ${first.message} and its changed content ${second.message}, from main-app's web root.`,
          { first: first.evidence, second: second.evidence },
        );
      },
    ),
    withSourceFile(
      'source-removals-served',
      'A file removed at the source is gone from main-app within 15 seconds',
      'Unpacking over the old files keeps the ones the source removed: make the volume hold exactly what the source has.',
      async (name, ctx) => {
        const added = await expectServed(ctx, name, checkerContent(), 'a new file');
        if (added.status === 'fail') return added;
        const error = await changeAtSource(ctx, SOURCE, name, undefined);
        if (error) return fail(`The checker could not remove its file at the source: ${error}.`);
        const waited = await waitForServed(ctx, TARGET, name, servesNotFound, IN_STEP_MS);
        const evidence = { file: name, waitedMs: waited.waitedMs, last: servedEvidence(waited.last) };
        if (!waited.ok) {
          const answer =
            waited.last?.probe.status === undefined ? 'no answer' : `HTTP ${waited.last.probe.status}, not 404`;
          return fail(
            `The checker removed ${SOURCE.dir}/${name} at the source; ${seconds(waited.waitedMs)} later main-app still answered ${answer} for /${name}: the sidecar keeps files the source no longer has.`,
            evidence,
          );
        }
        return pass(
          `A file removed at the source was gone from main-app (HTTP 404) after ${seconds(waited.waitedMs)}.`,
          evidence,
        );
      },
    ),
  ],
});
