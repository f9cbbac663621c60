// The tmux clients the bridge starts in a toolbox. A client whose connection is gone would otherwise live on (the
// kubelet does not end an exec's process when its stream closes), one per dropped connection.
import { randomBytes } from 'node:crypto';
import { TMUX_SESSION } from '../sandboxes/sandboxes.ts';

/** A random id for one terminal connection, safe to put in a shell command and a file name. */
export const newConnectionId = () => randomBytes(6).toString('hex');

const PID_PREFIX = '/tmp/.sidecar-lab-client-';
const pidFile = (connection: string) => `${PID_PREFIX}${connection}.pid`;

/**
 * Attaches to the learner's tmux session, creating it if needed. The client records its pid (`exec` keeps the
 * shell's) so `detachCommand` can end exactly this client later. First it ends every client whose connection is not in
 * `live` — the connections this server process holds open for the sandbox, this one included: anything else is an
 * orphan (left by a process that was killed, or a close whose detach never ran). Connections attaching at the same
 * moment are all in `live`, so none can end another's client.
 */
export function attachCommand(connection: string, live: readonly string[]): string[] {
  const keep = live.join(' ');
  const orphans =
    `for f in ${pidFile('*')}; do [ -f "$f" ] || continue; id=\${f#${PID_PREFIX}}; id=\${id%.pid}; ` +
    `case " ${keep} " in *" $id "*) continue;; esac; kill -HUP "$(cat "$f")" 2>/dev/null; rm -f "$f"; done; `;
  return ['sh', '-c', `${orphans}echo $$ > ${pidFile(connection)}; exec tmux new-session -A -s ${TMUX_SESSION}`];
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

/** The tmux clients this process has attached per sandbox, by connection id: the ones an attach must not end. */
export class LiveClients {
  readonly #ids = new Map<string, Set<string>>();

  add(sandbox: string, connection: string): string[] {
    const ids = this.#ids.get(sandbox) ?? new Set<string>();
    ids.add(connection);
    this.#ids.set(sandbox, ids);
    return [...ids];
  }

  remove(sandbox: string, connection: string): void {
    const ids = this.#ids.get(sandbox);
    ids?.delete(connection);
    if (ids?.size === 0) this.#ids.delete(sandbox);
  }
}
