// The tmux clients the bridge starts in a toolbox. A client whose connection is gone would otherwise live on (the
// kubelet does not end an exec's process when its stream closes), one per dropped connection.
import { randomBytes } from 'node:crypto';
import { TMUX_SESSION } from '../sandboxes/sandboxes.ts';

/** A random id for one terminal connection, safe to put in a shell command and a file name. */
export const newConnectionId = () => randomBytes(6).toString('hex');

const pidFile = (connection: string) => `/tmp/.sidecar-lab-client-${connection}.pid`;

/**
 * Attaches to the learner's tmux session, creating it if needed. The client records its pid (`exec` keeps the
 * shell's) so `detachCommand` can end exactly this client later. `detachOthers` detaches every other client: the
 * caller passes it when it knows of no other live connection to this sandbox, so any other client is an orphan.
 */
export function attachCommand(connection: string, detachOthers: boolean): string[] {
  // Detaching every other client makes every other pid file stale, so they go too.
  const clean = detachOthers ? `rm -f ${pidFile('*')}; ` : '';
  const flags = detachOthers ? '-A -D' : '-A';
  return ['sh', '-c', `${clean}echo $$ > ${pidFile(connection)}; exec tmux new-session ${flags} -s ${TMUX_SESSION}`];
}

/** Ends this connection's tmux client (SIGHUP detaches it; the session and its shell live on). */
export function detachCommand(connection: string): string[] {
  const file = pidFile(connection);
  // A connection closed right after it opened may get here before its client wrote the file: wait for it (≤ 2 s).
  const wait = `i=0; while [ ! -f ${file} ] && [ $i -lt 20 ]; do sleep 0.1; i=$((i+1)); done`;
  return ['sh', '-c', `${wait}; [ -f ${file} ] && kill -HUP "$(cat ${file})" 2>/dev/null; rm -f ${file}; true`];
}

/** Exits 0 while the learner's tmux session exists, 1 once its shell has exited. */
export function hasSessionCommand(): string[] {
  return ['sh', '-c', `tmux has-session -t ${TMUX_SESSION} 2>/dev/null`];
}

/** Live terminal connections per sandbox in this process, so a new one knows whether others are still attached. */
export class LiveConnections {
  readonly #count = new Map<string, number>();

  open(sandbox: string): { othersLive: boolean } {
    const before = this.#count.get(sandbox) ?? 0;
    this.#count.set(sandbox, before + 1);
    return { othersLive: before > 0 };
  }

  close(sandbox: string): void {
    const after = (this.#count.get(sandbox) ?? 1) - 1;
    if (after > 0) this.#count.set(sandbox, after);
    else this.#count.delete(sandbox);
  }
}
