// Entry point of the sandbox server: reads the configuration and serves until stopped.
import { configUsage, loadConfig, wantsHelp } from './config.ts';
import { createLogger } from './log.ts';
import { startServer } from './server.ts';

if (wantsHelp(process.argv.slice(2))) {
  console.log(configUsage());
  process.exit(0);
}
const log = createLogger(process.env.LOG_LEVEL ?? 'info');
try {
  const config = loadConfig(process.env, process.argv.slice(2));
  const server = await startServer(config, log.child({}, { level: config.LOG_LEVEL }));
  // One plain line saying where to go, whatever the log format.
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST;
  console.log(
    `Sidecar Lab is ready: http://${host.includes(':') ? `[${host}]` : host}:${server.port} — press Ctrl+C to stop`,
  );
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
