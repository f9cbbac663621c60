// Runs one command in a container and collects its output (bounded), for readiness probes and setup steps.
import { PassThrough, Writable } from 'node:stream';
import type { V1Status } from '@kubernetes/client-node';
import { type Kube, withDeadline } from './kube.ts';

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

const MAX_OUTPUT = 256 * 1024;

function collector(sink: Buffer[]): Writable {
  let size = 0;
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      if (size < MAX_OUTPUT) sink.push(chunk.subarray(0, MAX_OUTPUT - size));
      size += chunk.length;
      done();
    },
  });
}

/** Exit code from the exec status frame: 0 on Success, else the ExitCode cause, else 1. */
export function exitCodeOf(status: V1Status): number {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  return cause?.message ? Number(cause.message) : 1;
}

export async function execCollect(
  kube: Kube,
  namespace: string,
  pod: string,
  container: string,
  argv: string[],
  timeoutMs = 10_000,
  stdin?: string,
): Promise<ExecResult> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const input = stdin === undefined ? null : new PassThrough();
  const run = new Promise<ExecResult>((resolve, reject) => {
    kube.exec
      .exec(namespace, pod, container, argv, collector(out), collector(err), input, false, (status) => {
        resolve({
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
          exitCode: exitCodeOf(status),
        });
      })
      .then((ws) => {
        if (input) input.end(stdin);
        ws.on('error', reject);
        ws.on('close', () => reject(new Error(`exec in ${namespace}/${pod}/${container} closed without a status`)));
      }, reject);
  });
  return withDeadline(run, timeoutMs, `exec ${argv[0]} in ${namespace}/${pod}`);
}
