// `npm run workshop`: create, list, end and export workshops, on the same SQLite file the running server reads.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { z } from 'zod';
import { exerciseIds } from '../../../exercises/registry.ts';
import { createKube, isUnavailable } from '../cluster/kube.ts';
import { KubeconfigError, loadKubeConfig } from '../cluster/kubeconfig.ts';
import { type Config, loadConfig } from '../config.ts';
import { ExplainedError, parseOrExplain } from '../protocol/explain.ts';
import { durationMinutes, workshopName } from '../protocol/workshops.ts';
import { Sandboxes } from '../sandboxes/sandboxes.ts';
import { openRepository } from '../store/open.ts';
import type { Repository } from '../store/repository.ts';
import { toCsv } from '../workshops/results.ts';
import { formatJoinCode } from '../workshops/secrets.ts';
import { statusOf, WorkshopError, WorkshopService } from '../workshops/workshops.ts';

export const USAGE = `Usage: npm run workshop -- <command> [options]

  create --name NAME --capacity N --duration 2h [--exercises a,b,c]
                       create a workshop; prints the join code and the instructor token (shown only this once)
  list                 every workshop: state, learners, time left
  end (--id ID | --code CODE)
                       end a workshop: every sandbox it has is deleted; learners and results stay
  export (--id ID | --code CODE) [--format csv|json] [--out FILE]
                       results, one row per learner and exercise (learner, exercise, passed, attempts, first pass)

  --exercises a,b,c    grid columns, in order (default: all): ${exerciseIds.join(', ')}
  --url URL            the server's address as learners reach it, for the printed links (default: http://HOST:PORT)
  --json               machine-readable output for create and list
  --help               show this help

The workshop lives in the server's SQLite file (SIDECAR_LAB_DATA_DIR, default .lab/data): a running server sees it
at once. A workshop runs at most SIDECAR_LAB_MAX_TTL_MINUTES (default 240), extensions included.

Exit status: 0 done, 1 no such workshop or refused, 2 bad usage, 3 the cluster could not be reached (end).`;

export const EXIT = { ok: 0, refused: 1, usage: 2, unavailable: 3 } as const;

export class UsageError extends Error {
  override name = 'UsageError';
}

const idOrCode = z
  .object({ id: z.string().optional(), code: z.string().optional() })
  .refine((v) => Boolean(v.id) !== Boolean(v.code), 'give --id ID or --code CODE');

/** Each command's options, validated once. */
const commands = {
  create: z.object({
    name: workshopName,
    capacity: z.coerce.number().int().min(1).max(500),
    duration: durationMinutes,
    exercises: z
      .string()
      .transform((s) =>
        s
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
      )
      .optional(),
  }),
  list: z.object({}),
  end: idOrCode,
  export: idOrCode.and(z.object({ format: z.enum(['csv', 'json']).default('csv'), out: z.string().min(1).optional() })),
};
type Command = keyof typeof commands;

export function parseWorkshopArgs(argv: string[]) {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        name: { type: 'string' },
        capacity: { type: 'string' },
        duration: { type: 'string' },
        exercises: { type: 'string' },
        id: { type: 'string' },
        code: { type: 'string' },
        format: { type: 'string' },
        out: { type: 'string' },
        url: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help) return { command: 'help' as const, values };
  const [command, ...rest] = positionals;
  if (!command || !(command in commands)) {
    throw new UsageError(command ? `unknown command "${command}"` : 'give a command: create, list, end or export');
  }
  if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`);
  const { url, json, help: _help, ...options } = values;
  try {
    const args = parseOrExplain(commands[command as Command], options, 'arguments');
    return { command: command as Command, args, url: url as string | undefined, json: Boolean(json) };
  } catch (error) {
    if (error instanceof ExplainedError) {
      throw new UsageError(
        error.issues.map((i) => (i.path === '(root)' ? i.message : `--${i.path}: ${i.message}`)).join('; '),
      );
    }
    throw error;
  }
}

/** Workshops over the configured data folder; the cluster is only connected for commands that need it. */
async function service(
  config: Config,
  withCluster: boolean,
): Promise<{ workshops: WorkshopService; repo: Repository }> {
  const repo = await openRepository(config);
  let sandboxes: Sandboxes | undefined;
  if (withCluster) {
    const kc = loadKubeConfig({
      ...(config.SIDECAR_LAB_CLUSTER !== 'local' && config.KUBECONFIG ? { kubeconfig: config.KUBECONFIG } : {}),
      ...(config.SIDECAR_LAB_CONTEXT ? { context: config.SIDECAR_LAB_CONTEXT } : {}),
      fallback: config.SIDECAR_LAB_CLUSTER === 'local' ? 'local' : 'user',
    });
    sandboxes = new Sandboxes(createKube(kc), {
      toolboxImage: config.SIDECAR_LAB_TOOLBOX_IMAGE,
      budget: {
        pods: config.SIDECAR_LAB_QUOTA_PODS,
        cpu: config.SIDECAR_LAB_QUOTA_CPU,
        memory: config.SIDECAR_LAB_QUOTA_MEMORY,
      },
      ttlMinutes: config.SIDECAR_LAB_SANDBOX_TTL_MINUTES,
      maxTtlMinutes: config.SIDECAR_LAB_MAX_TTL_MINUTES,
    });
  }
  const log = pino({ level: 'warn' }, pino.destination(2));
  const settings = { maxMinutes: config.SIDECAR_LAB_MAX_TTL_MINUTES, maxSandboxes: config.SIDECAR_LAB_MAX_SANDBOXES };
  return { workshops: new WorkshopService(repo, sandboxes, settings, log), repo };
}

const minutesLeft = (iso: string) => Math.max(0, Math.round((Date.parse(iso) - Date.now()) / 60_000));

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const out = (text: string) => process.stdout.write(`${text}\n`);
  let parsed: ReturnType<typeof parseWorkshopArgs>;
  let config: Config;
  try {
    parsed = parseWorkshopArgs(argv);
    if (parsed.command === 'help') {
      out(USAGE);
      return EXIT.ok;
    }
    config = loadConfig(env);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`workshop: ${message}\n\n${error instanceof UsageError ? `${USAGE}\n` : ''}`);
    return EXIT.usage;
  }
  const base = (parsed.url ?? `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${config.PORT}`).replace(
    /\/$/,
    '',
  );
  let repo: Repository | undefined;
  try {
    const built = await service(config, parsed.command === 'end');
    repo = built.repo;
    const workshops = built.workshops;
    switch (parsed.command) {
      case 'create': {
        const a = parsed.args as z.infer<typeof commands.create>;
        const { workshop, token } = await workshops.create({
          name: a.name,
          capacity: a.capacity,
          durationMinutes: a.duration,
          exercises: a.exercises,
        });
        const code = formatJoinCode(workshop.code);
        const joinUrl = `${base}/join/${code}`;
        const dashboardUrl = `${base}/workshops/${workshop.id}/dashboard#token=${token}`;
        if (parsed.json) {
          const { tokenHash: _stored, ...shown } = workshop;
          out(JSON.stringify({ ...shown, code, token, joinUrl, dashboardUrl }, null, 2));
        } else {
          out(`Workshop "${workshop.name}" created: ${workshop.capacity} places, ends in ${a.duration} minutes.`);
          out(`Exercises: ${workshop.exercises.join(', ')}\n`);
          out(`  Join code          ${code}`);
          out(`  Learners open      ${joinUrl}`);
          out(`  Instructor token   ${token}`);
          out(`  Dashboard          ${dashboardUrl}\n`);
          out('The token is shown only this once and opens the dashboard: keep it. Only its hash is stored.');
          out(`Workshop id: ${workshop.id}`);
        }
        return EXIT.ok;
      }
      case 'list': {
        const all = await repo.workshops();
        if (parsed.json) {
          out(
            JSON.stringify(
              all.map(({ tokenHash: _hidden, ...w }) => ({ ...w, code: formatJoinCode(w.code), status: statusOf(w) })),
              null,
              2,
            ),
          );
        } else if (!all.length) {
          out('No workshops yet. Create one with: npm run workshop -- create --name NAME --capacity N --duration 2h');
        } else {
          for (const w of all) {
            const status = statusOf(w);
            const left = status === 'running' ? `, ${minutesLeft(w.endsAt)} min left` : '';
            out(
              `${w.id}  ${formatJoinCode(w.code)}  ${status.padEnd(7)}  ${w.learners}/${w.capacity} learners${left}  ${w.name}`,
            );
          }
        }
        return EXIT.ok;
      }
      case 'end':
      case 'export': {
        const a = parsed.args as { id?: string; code?: string; format?: 'csv' | 'json'; out?: string };
        const workshop = await (a.id ? workshops.get(a.id) : workshops.byCode(a.code ?? ''));
        if (!workshop) {
          process.stderr.write(`workshop: no workshop with ${a.id ? `id ${a.id}` : `code ${a.code}`}\n`);
          return EXIT.refused;
        }
        if (parsed.command === 'end') {
          const deleted = await workshops.end(workshop);
          out(`Workshop "${workshop.name}" ended: ${deleted} sandbox(es) deleted. Results stay for the export.`);
          return EXIT.ok;
        }
        const rows = await workshops.results(workshop);
        const text =
          a.format === 'json'
            ? `${JSON.stringify({ workshop: { id: workshop.id, name: workshop.name }, results: rows }, null, 2)}\n`
            : toCsv(rows);
        if (a.out) {
          writeFileSync(a.out, text);
          process.stderr.write(`workshop: wrote ${rows.length} rows to ${a.out}\n`);
        } else {
          process.stdout.write(text);
        }
        return EXIT.ok;
      }
      default:
        return EXIT.usage;
    }
  } catch (error) {
    if (error instanceof KubeconfigError || isUnavailable(error)) {
      process.stderr.write(`workshop: cluster unavailable: ${error instanceof Error ? error.message : error}\n`);
      return EXIT.unavailable;
    }
    if (error instanceof WorkshopError) {
      process.stderr.write(`workshop: ${error.message}\n`);
      return error.code === 'bad_request' ? EXIT.usage : EXIT.refused;
    }
    throw error;
  } finally {
    await repo?.close();
  }
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`workshop: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = EXIT.refused;
    },
  );
}
