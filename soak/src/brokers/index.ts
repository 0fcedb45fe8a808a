import type { Broker } from './broker';
import { ClusterRedis } from './cluster';
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
      return new ClusterRedis();
  }
}
