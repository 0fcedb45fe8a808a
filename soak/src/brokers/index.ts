import type { Broker } from './broker';
import { SentinelRedis } from './sentinel';
import { SingleRedis } from './single';

export const BROKERS = ['single', 'sentinel', 'cluster'] as const;
export type BrokerName = (typeof BROKERS)[number];

/** The broker `--broker` names; `dir` is the run's directory for its data. */
export function createBroker(name: BrokerName, dir: string): Broker {
  switch (name) {
    case 'single':
      return new SingleRedis(dir);
    case 'sentinel':
      return new SentinelRedis();
    case 'cluster':
      throw new Error(
        '--broker cluster: the Redis Cluster backend is not merged yet; it plugs in here (soak/src/brokers) as one more Broker once it is',
      );
  }
}
