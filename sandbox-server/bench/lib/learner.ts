// A learner as the bench sees one: a session cookie, the sandbox API, and a terminal through the bridge.
import { openBridge, type Terminal } from './terminal.ts';

export interface SandboxView {
  id: string;
  namespace: string;
  status: string;
}

export class BenchLearner {
  cookie = '';
  base: string;
  constructor(base: string) {
    this.base = base;
  }

  async request(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: { cookie: this.cookie, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      // A cold sandbox on a busy node can take a while; the server bounds it at 60 s itself.
      signal: AbortSignal.timeout(120_000),
    });
    const setCookie = response.headers.get('set-cookie');
    if (setCookie) this.cookie = setCookie.split(';')[0]!;
    const text = await response.text();
    let json: unknown = text;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON: keep the text, which the caller shows in its error.
    }
    return { status: response.status, json };
  }

  /** POST /api/sandboxes; throws with the server's message unless it answers 201 or 200. */
  async createSandbox(): Promise<SandboxView> {
    const response = await this.request('POST', '/api/sandboxes', {});
    if (response.status !== 201 && response.status !== 200) {
      throw new Error(`POST /api/sandboxes answered ${response.status}: ${JSON.stringify(response.json)}`);
    }
    return response.json as SandboxView;
  }

  terminal(sandboxId: string): Promise<Terminal> {
    return openBridge(this.base, this.cookie, sandboxId);
  }
}
