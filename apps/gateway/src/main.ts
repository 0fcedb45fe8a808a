import { setFlagsFromString } from 'node:v8';
import { createBroker } from './broker/create-broker';
import { ConfigError, loadConfig, type GatewayConfig } from './config';
import { createGateway } from './gateway';
import { whereLine } from './http/where';
import { INJECTED_BUG } from './injected-bug';
import { createLogger } from './logger';

async function main(): Promise<void> {
  let config: GatewayConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`gateway: ${error.message}\n`);
    process.exit(2);
  }
  // Read by V8 at every full GC (the next limit), so setting it here, before the gateway
  // allocates anything, is as good as the command-line flag, and holds however node is started.
  if (config.heapGrowingPercent > 0) {
    setFlagsFromString(`--heap-growing-percent=${config.heapGrowingPercent}`);
  }
  const logger = createLogger(config.nodeId, config.logLevel);
  if (INJECTED_BUG !== undefined) {
    logger.warn({ bug: INJECTED_BUG }, 'TEST ONLY: a deliberate bug is switched on');
  }
  const gateway = createGateway({ config, logger, ...createBroker(config, logger) });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const hardStop = setTimeout(() => {
      logger.error('drain did not finish in time; exiting');
      process.exit(1);
    }, config.drainTimeoutMs + 2_000);
    hardStop.unref();
    gateway.drain().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'drain failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  const port = await gateway.listen();
  // For a person at a terminal only: log collectors read stdout as JSON lines.
  if (process.stdout.isTTY) process.stdout.write(`${whereLine(config.host, port)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `gateway: failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
