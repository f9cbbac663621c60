// The sandbox server as a child process: started like `npm start` would, so its RSS and CPU can be read from /proc,
// and so it can be SIGKILLed and restarted. Its JSON log lines tell the bench which sandboxes it created.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { SERVER_NODE_FLAGS } from '../../src/node-flags.ts';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = join(REPO, 'sandbox-server', 'src', 'main.ts');

/** The Origin the bench's learners send; the server is told to allow it. */
export const BENCH_ORIGIN = 'http://bench.sidecar-lab.test';

/** One pino line from the server (only the fields the bench reads). */
export interface LogLine {
  msg: string;
  level: number;
  sandbox?: string;
  source?: 'warm' | 'cold';
  port?: number;
  ms?: number;
  [key: string]: unknown;
}

export interface ServerOptions {
  /** Warm sandboxes to keep ready (SIDECAR_LAB_POOL_SIZE). */
  poolSize: number;
  /** Data folder (SQLite, secret); pass the previous one to restart "the same" server. */
  dataDir?: string;
  /** Session secret; the same one on a restart keeps learners' cookies valid. */
  secret?: string;
  /** Port to listen on (0: any free one); a restart reuses the old one, so clients reconnect to the same URL. */
  port?: number;
  /** Warm-pool instance name; a restart reuses the old one so it finds its own pool. */
  instance?: string;
  /** The built site to serve (SIDECAR_LAB_SITE_DIR); none by default, as only the API is driven. */
  siteDir?: string;
  /** Another Origin to allow besides the bench's own, e.g. the browser's page origin. */
  origin?: string;
  /** Called for every sandbox namespace the server reports creating, so the bench can delete it afterwards. */
  onSandbox?: (namespace: string) => void;
}

/** A running server child; `kill` sends SIGKILL (reconnect benchmark), `stop` a SIGTERM and waits. */
export class ServerProcess {
  readonly child: ChildProcess;
  readonly dataDir: string;
  readonly secret: string;
  readonly instance: string;
  readonly logs: LogLine[] = [];
  readonly startedAt = performance.now();
  /** Milliseconds from spawn to the "listening" line. */
  startupMs = Number.NaN;
  port = 0;
  #exited: Promise<number | null>;
  #waiters: Array<{ test: (line: LogLine) => boolean; resolve: (line: LogLine) => void }> = [];
  #stderr = '';

  private constructor(options: ServerOptions) {
    this.dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'slab-bench-'));
    this.secret = options.secret ?? randomBytes(24).toString('base64url');
    this.instance = options.instance ?? `bench-${randomBytes(4).toString('hex')}`;
    this.child = spawn(process.execPath, [...SERVER_NODE_FLAGS, MAIN], {
      cwd: REPO,
      env: {
        ...process.env,
        PORT: String(options.port ?? 0),
        HOST: '127.0.0.1',
        SIDECAR_LAB_DATA_DIR: this.dataDir,
        SIDECAR_LAB_SESSION_SECRET: this.secret,
        SIDECAR_LAB_ALLOWED_ORIGINS: options.origin ? `${BENCH_ORIGIN},${options.origin}` : BENCH_ORIGIN,
        SIDECAR_LAB_POOL_SIZE: String(options.poolSize),
        SIDECAR_LAB_INSTANCE: this.instance,
        // The bench's learners are many sessions at once; neither limit is what is being measured.
        SIDECAR_LAB_MAX_SANDBOXES: '1000',
        SIDECAR_LAB_CREATE_RATE_PER_MINUTE: '1000',
        // Nothing is served from the site folder in a benchmark; a missing folder only makes static routes 404.
        SIDECAR_LAB_SITE_DIR: options.siteDir ?? join(this.dataDir, 'no-site'),
        LOG_LEVEL: 'info',
        // For profiling a miss, e.g. BENCH_SERVER_NODE_OPTIONS="--cpu-prof --cpu-prof-dir=/tmp/prof" (written on stop).
        ...(process.env.BENCH_SERVER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_SERVER_NODE_OPTIONS } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString()).slice(-4000);
    });
    createInterface({ input: this.child.stdout! }).on('line', (text) => {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        return; // not a log line (the server prints nothing else, but a stray line must not stop the reader)
      }
      this.logs.push(line);
      // Every sandbox the server makes is announced by one of these two lines; both carry its id.
      if ((line.msg === 'warm sandbox ready' || line.msg === 'sandbox claimed') && line.sandbox) {
        options.onSandbox?.(`sbx-${line.sandbox}`);
      }
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.test(line)) return true;
        w.resolve(line);
        return false;
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts a server and resolves once it listens; rejects with its stderr if it exits first. */
  static async start(options: ServerOptions): Promise<ServerProcess> {
    const server = new ServerProcess(options);
    const listening = server.waitForLog((l) => l.msg === 'sidecar lab server listening', 60_000);
    const exited = server.#exited.then((code) => {
      throw new Error(`the server exited (${code}) before listening: ${server.#stderr.trim()}`);
    });
    const line = await Promise.race([listening, exited]);
    server.port = line.port!;
    server.startupMs = performance.now() - server.startedAt;
    return server;
  }

  /** Resolves with the first log line (already seen or coming) that passes `test`. */
  waitForLog(test: (line: LogLine) => boolean, timeoutMs: number, fromIndex = 0): Promise<LogLine> {
    const seen = this.logs.slice(fromIndex).find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.resolve !== done);
        reject(new Error(`the server did not log what was awaited within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (line: LogLine) => {
        clearTimeout(timer);
        resolve(line);
      };
      this.#waiters.push({ test, resolve: done });
    });
  }

  /** Log lines with this message, in order. */
  lines(msg: string): LogLine[] {
    return this.logs.filter((l) => l.msg === msg);
  }

  /** SIGKILL, as a crash would; resolves once the process is gone. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.#exited;
  }

  /** SIGTERM (the server closes its terminals and exits), then SIGKILL if it has not gone within 10 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.#exited;
    clearTimeout(timer);
  }
}
