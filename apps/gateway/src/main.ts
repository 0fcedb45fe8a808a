import { MemoryBroker, MemoryBus } from './bus/memory-bus';
import { RedisBus } from './bus/redis-bus';
import { ConfigError, loadConfig, type GatewayConfig } from './config';
import { createGateway, type GatewayDeps } from './gateway';
import { createLogger, type Logger } from './logger';
import { MemoryState } from './state/memory-state';
import { RedisState } from './state/redis-state';

function backend(config: GatewayConfig, logger: Logger): Pick<GatewayDeps, 'bus' | 'state'> {
  if (config.redisUrl === undefined) {
    const broker = new MemoryBroker(config.historyLimit);
    return { bus: new MemoryBus(broker), state: new MemoryState(broker) };
  }
  const bus = new RedisBus({
    url: config.redisUrl,
    prefix: config.redisPrefix,
    historyLimit: config.historyLimit,
    commandTimeoutMs: config.commandTimeoutMs,
    logger: logger.child({ component: 'redis' }),
  });
  bus.connect();
  return { bus, state: new RedisState(bus.pub, config.redisPrefix) };
}

async function main(): Promise<void> {
  let config: GatewayConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`gateway: ${error.message}\n`);
    process.exit(2);
  }
  const logger = createLogger(config.nodeId, config.logLevel);
  const gateway = createGateway({ config, logger, ...backend(config, logger) });
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
  await gateway.listen();
}

main().catch((error: unknown) => {
  process.stderr.write(
    `gateway: failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
