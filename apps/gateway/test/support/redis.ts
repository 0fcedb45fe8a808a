import type { Bus, RoomStorage } from '../../src/broker/bus';
import { createBroker, type Broker } from '../../src/broker/create-broker';
import { createLogger } from '../../src/logger';

/** The Redis broker (bus and state on one backend) at `url`, once connected and subscribed. */
export async function openRedisBroker(
  url: string,
  prefix: string,
  storage: Partial<RoomStorage> & { dmHistoryLimit?: number } = {},
): Promise<Broker> {
  const broker = createBroker(
    {
      redisUrl: url,
      redisPrefix: prefix,
      historyLimit: 100,
      dmHistoryLimit: 100,
      commandTimeoutMs: 2_000,
      ...storage,
    },
    createLogger('test', 'silent'),
  );
  await new Promise<void>((resolve) =>
    broker.bus.setHandler({ envelope: () => undefined, down: () => undefined, resumed: resolve }),
  );
  return broker;
}

/** A Redis bus on `url`, resolved once connected and subscribed. */
export async function openRedisBus(
  url: string,
  prefix: string,
  storage: Partial<RoomStorage> = {},
): Promise<Bus> {
  return (await openRedisBroker(url, prefix, storage)).bus;
}
