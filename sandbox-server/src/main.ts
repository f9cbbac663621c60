// Entry point of the sandbox server: reads the configuration and serves until stopped.
import pino from 'pino';
import { loadConfig } from './config.ts';
import { startServer } from './server.ts';

const log = pino({ level: process.env.LOG_LEVEL ?? 'info' });
try {
  const config = loadConfig(process.env, process.argv.slice(2));
  const server = await startServer(config, log.child({}, { level: config.LOG_LEVEL }));
  const stop = async (signal: string) => {
    log.info({ signal }, 'shutting down');
    await server.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('unhandledRejection', (error) => log.error({ err: error }, 'unhandled rejection'));
} catch (error) {
  // Configuration and start-up problems get one plain line, not a stack trace.
  console.error(`sidecar-lab: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
