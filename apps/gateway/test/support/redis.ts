import { RedisBus } from '../../src/bus/redis-bus';
import { createLogger } from '../../src/logger';

/** A RedisBus on `url`, resolved once connected and subscribed. */
export async function openRedisBus(url: string, prefix: string): Promise<RedisBus> {
  const bus = new RedisBus({
    url,
    prefix,
    historyLimit: 100,
    commandTimeoutMs: 2_000,
    logger: createLogger('test', 'silent'),
  });
  const up = new Promise<void>((resolve) =>
    bus.setHandler({ envelope: () => undefined, down: () => undefined, resumed: resolve }),
  );
  bus.connect();
  await up;
  return bus;
}
