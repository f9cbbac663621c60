// The server's logger: readable lines on a terminal, JSON lines anywhere else (or when LOG_FORMAT=json asks for it).
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

/** JSON when not on a terminal (a log collector reads it) or when asked; otherwise one readable line per event. */
export function wantsJson(env: NodeJS.ProcessEnv = process.env, tty = Boolean(process.stdout.isTTY)): boolean {
  if (env.LOG_FORMAT === 'json') return true;
  if (env.LOG_FORMAT === 'pretty') return false;
  return !tty;
}

/** A logger at `level`, in the format `wantsJson` chooses. */
export function createLogger(level: string, env: NodeJS.ProcessEnv = process.env): Logger {
  if (wantsJson(env)) return pino({ level });
  return pino(
    { level },
    pretty({ sync: true, colorize: !env.NO_COLOR, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' }),
  );
}
