// The bench's command line: which benchmarks, how many samples, how far the capacity ramp goes. Pure, so the usage
// text and every error message are pinned by unit tests.

/** Every benchmark, in the order they run: reconnect last, as it SIGKILLs servers. */
export const BENCHMARK_NAMES = [
  'ready',
  'echo',
  'bulk',
  'check',
  'verdict',
  'concurrency',
  'burst',
  'capacity',
  'site',
  'restore',
  'reconnect',
] as const;
export type BenchmarkName = (typeof BENCHMARK_NAMES)[number];

export interface Options {
  help: boolean;
  quick: boolean;
  only: BenchmarkName[];
  out?: string;
  /** Samples per side of each ratio (ready, check, verdict, restore, reconnect); each benchmark's default when absent. */
  samples?: number;
  /** Exercises for `check` and `verdict` (default: all; quick: the first). */
  exercises?: string[];
  /** Learner counts for `concurrency` (default 10,25,50). */
  levels?: number[];
  /** Seconds each concurrency level (and each capacity step) types. */
  seconds?: number;
  /** Learners added per capacity step, and the most it ramps to. */
  rampStep?: number;
  rampMax?: number;
  /** A server already running (e.g. the deployment's Service) for `concurrency`, instead of starting one. */
  url?: string;
}

export const USAGE = `usage: npm run bench -- [options]

Runs the benchmarks against the real cluster (KUBECONFIG, or the local cluster), prints a table and writes JSON.

  --only NAME[,NAME]   only these benchmarks: ${BENCHMARK_NAMES.join(', ')}
  --quick              small sizes, each benchmark once: a smoke run, not a measurement
  --samples N          samples per side of each ratio (ready, check, verdict, restore, reconnect)
  --exercises ID[,ID]  exercises for check and verdict (default: all)
  --levels N[,N]       learners per concurrency level (default: 10,25,50)
  --seconds N          seconds each concurrency level and capacity step types (default: 20)
  --ramp-step N        learners added per capacity step (default: 5)
  --ramp-max N         most learners the capacity ramp seats (default: what the node fits)
  --url BASE           concurrency against a server already running there (e.g. the deployment's
                       Service, http://10.240.0.1:30080) instead of one it starts; echo rows only,
                       as the bench cannot read that server's CPU and memory (only with --only concurrency)
  --out DIR            where the JSON goes (default: bench-results/)
  --help               this text
`;

/** An argument the bench cannot use; the message names it. */
export class UsageError extends Error {}

function positiveInt(flag: string, text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`${flag} wants a whole number of at least 1, not "${text}"`);
  }
  return n;
}

const list = (text: string) => text.split(',').filter(Boolean);

/** Parses the arguments after `npm run bench --`; throws UsageError naming any unknown flag or benchmark. */
export function parseOptions(argv: readonly string[]): Options {
  const options: Options = { help: false, quick: false, only: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '' || (inline === undefined && v.startsWith('--'))) {
        throw new UsageError(`${flag} needs a value`);
      }
      return v;
    };
    const noValue = () => {
      if (inline !== undefined) throw new UsageError(`${flag} takes no value (got "${arg}")`);
    };
    switch (flag) {
      case '--help':
      case '-h':
        noValue();
        options.help = true;
        break;
      case '--quick':
        noValue();
        options.quick = true;
        break;
      case '--only': {
        const names = list(value());
        const unknown = names.filter((n) => !(BENCHMARK_NAMES as readonly string[]).includes(n));
        if (unknown.length) {
          throw new UsageError(
            `no benchmark named ${unknown.map((n) => `"${n}"`).join(', ')} (there are: ${BENCHMARK_NAMES.join(', ')})`,
          );
        }
        options.only = names as BenchmarkName[];
        break;
      }
      case '--out':
        options.out = value();
        break;
      case '--samples':
        options.samples = positiveInt(flag, value());
        break;
      case '--exercises':
        options.exercises = list(value());
        break;
      case '--levels':
        options.levels = list(value()).map((n) => positiveInt(flag, n));
        break;
      case '--seconds':
        options.seconds = positiveInt(flag, value());
        break;
      case '--ramp-step':
        options.rampStep = positiveInt(flag, value());
        break;
      case '--ramp-max':
        options.rampMax = positiveInt(flag, value());
        break;
      case '--url': {
        const url = value();
        if (!/^https?:\/\/[^/]+\/?$/.test(url)) {
          throw new UsageError(`--url wants a server's base address like http://10.240.0.1:30080, not "${url}"`);
        }
        options.url = url.replace(/\/$/, '');
        break;
      }
      default:
        throw new UsageError(`unknown argument "${arg}" (see --help)`);
    }
  }
  if (options.url && (options.only.length !== 1 || options.only[0] !== 'concurrency')) {
    throw new UsageError('--url is for the concurrency benchmark only: add --only concurrency');
  }
  return options;
}
