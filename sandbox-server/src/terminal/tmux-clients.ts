// The tmux clients the bridge starts in a toolbox. A client whose connection is gone would otherwise live on (the
// kubelet does not end an exec's process when its stream closes), one per dropped connection.
import { randomBytes } from 'node:crypto';
import { MAX_TERMINAL_TABS } from '../protocol/schemas.ts';
import { TMUX_SESSION } from '../sandboxes/sandboxes.ts';

export const MAX_TABS = MAX_TERMINAL_TABS;

/**
 * The tmux session of tab `tab` (1-based): the first is the session the warm pool readies, so a sandbox's first
 * terminal is what it always was; the others are started on first attach.
 */
export function tabSession(tab: number): string {
  if (!Number.isInteger(tab) || tab < 1 || tab > MAX_TABS) throw new RangeError(`no terminal tab ${tab}`);
  return tab === 1 ? TMUX_SESSION : `${TMUX_SESSION}-${tab}`;
}

/** The tab numbers of `tmux list-sessions -F '#{session_name}'` output, in order; other sessions are ignored. */
export function tabsOf(sessionNames: string): number[] {
  const tabs = new Set<number>();
  for (const name of sessionNames.split('\n').map((line) => line.trim())) {
    for (let tab = 1; tab <= MAX_TABS; tab++) if (name === tabSession(tab)) tabs.add(tab);
  }
  return [...tabs].sort((a, b) => a - b);
}

/** Lists the toolbox's tmux sessions (exit 0 and no output when there is none). */
export function listSessionsCommand(): string[] {
  return ['sh', '-c', `tmux list-sessions -F '#{session_name}' 2>/dev/null; true`];
}

/** Ends a tab's tmux session and every program in it (the first tab is never closed this way). */
export function killSessionCommand(tab: number): string[] {
  return ['sh', '-c', `tmux kill-session -t ${tabSession(tab)} 2>/dev/null; true`];
}

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
export function attachCommand(connection: string, live: readonly string[], session = TMUX_SESSION): string[] {
  const keep = live.join(' ');
  const orphans =
    `for f in ${pidFile('*')}; do [ -f "$f" ] || continue; id=\${f#${PID_PREFIX}}; id=\${id%.pid}; ` +
    `case " ${keep} " in *" $id "*) continue;; esac; kill -HUP "$(cat "$f")" 2>/dev/null; rm -f "$f"; done; `;
  return ['sh', '-c', `${orphans}echo $$ > ${pidFile(connection)}; exec tmux new-session -A -s ${session}`];
}

/** Ends this connection's tmux client (SIGHUP detaches it; the session and its shell live on). */
export function detachCommand(connection: string): string[] {
  const file = pidFile(connection);
  // A connection closed right after it opened may get here before its client wrote the file: wait for it (≤ 2 s).
  const wait = `i=0; while [ ! -f ${file} ] && [ $i -lt 20 ]; do sleep 0.1; i=$((i+1)); done`;
  return ['sh', '-c', `${wait}; [ -f ${file} ] && kill -HUP "$(cat ${file})" 2>/dev/null; rm -f ${file}; true`];
}

/** Exits 0 while the learner's tmux session exists, 1 once its shell has exited. */
export function hasSessionCommand(session = TMUX_SESSION): string[] {
  return ['sh', '-c', `tmux has-session -t ${session} 2>/dev/null`];
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
