// The learner's workspace beyond the first terminal: the live Pod picture (Server-Sent Events fed by the namespace
// watch) and the terminal tabs (tmux sessions in the toolbox). Every route answers only for the caller's own sandbox.
import { type Context, Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { Logger } from 'pino';
import { z } from 'zod';
import { execCollect } from '../../cluster/exec.ts';
import type { Kube } from '../../cluster/kube.ts';
import { TOOLBOX_CONTAINER, TOOLBOX_POD } from '../../cluster/labels.ts';
import { watchPodViews } from '../../cluster/pod-view-watch.ts';
import { parseOrExplain } from '../../protocol/explain.ts';
import type { PodsFrame } from '../../protocol/pod-view.ts';
import { MAX_TERMINAL_TABS, type TerminalTabs } from '../../protocol/schemas.ts';
import type { Sandbox } from '../../sandboxes/sandboxes.ts';
import { killSessionCommand, listSessionsCommand, tabsOf } from '../../terminal/tmux-clients.ts';
import { ApiError } from '../errors.ts';

// biome-ignore lint/suspicious/noExplicitAny: the app's Env is private to app.ts; the routes only pass contexts back.
type AnyContext = Context<any>;

export interface WorkspaceDeps {
  kube: Kube;
  log: Logger;
  /** The caller's own sandbox, or a 404 for a missing one and for anyone else's (app.ts decides). */
  ownSandbox(c: AnyContext): Promise<Sandbox>;
}

/** A tab the learner can close: never the first, whose session the warm pool readied. */
const closableTab = z.object({ tab: z.coerce.number().int().min(2).max(MAX_TERMINAL_TABS) });

const KEEP_ALIVE_MS = 15_000;

/** Chained, so that the site's typed client (`hc<AppType>`) knows these routes too. */
export function workspaceRoutes(deps: WorkspaceDeps) {
  return new Hono()
    .get('/api/sandboxes/:id/pods', async (c) => {
      const sandbox = await deps.ownSandbox(c);
      return streamSSE(c, async (stream) => {
        let seq = 0;
        const stop = watchPodViews(deps.kube, sandbox.namespace, (pods) => {
          const frame: PodsFrame = { pods, at: Date.now() };
          seq++;
          void stream.writeSSE({ event: 'pods', data: JSON.stringify(frame), id: String(seq) });
        });
        stream.onAbort(stop);
        while (!stream.aborted && !stream.closed) {
          await stream.sleep(KEEP_ALIVE_MS);
          await stream.write(': keep-alive\n\n');
        }
        stop();
      });
    })
    .get('/api/sandboxes/:id/terminals', async (c) => {
      const sandbox = await deps.ownSandbox(c);
      const result = await execCollect(
        deps.kube,
        sandbox.namespace,
        TOOLBOX_POD,
        TOOLBOX_CONTAINER,
        listSessionsCommand(),
      );
      const answer: TerminalTabs = { tabs: tabsOf(result.stdout) };
      return c.json(answer, 200);
    })
    .delete('/api/sandboxes/:id/terminals/:tab', async (c) => {
      const { tab } = parseOrExplain(closableTab, { tab: c.req.param('tab') }, 'path');
      const sandbox = await deps.ownSandbox(c);
      if (sandbox.status !== 'ready') throw new ApiError('conflict', `the sandbox is ${sandbox.status}`);
      await execCollect(deps.kube, sandbox.namespace, TOOLBOX_POD, TOOLBOX_CONTAINER, killSessionCommand(tab));
      deps.log.debug({ sandbox: sandbox.id, tab }, 'closed a terminal tab');
      return c.body(null, 204);
    });
}
