import { setTimeout as sleep } from 'node:timers/promises';
import { startRedisCluster, type RedisClusterGroup } from '@chat/test-support';
import type { Rng } from '../rng';
import { withAdmin } from './admin';
import { FaultNotNow, type Broker, type BrokerFault } from './broker';

/** `cluster-node-timeout`: a master silent this long is failed over. */
const NODE_TIMEOUT_MS = 1_000;

/**
 * A Redis Cluster of three masters with a replica each (libs/test-support's group). Gateways
 * get REDIS_CLUSTER and follow the cluster's own fail-overs; nodes announce their own
 * addresses, so there is no proxy between gateways and Redis here.
 */
export class ClusterRedis implements Broker {
  readonly name = 'cluster';
  readonly faults: readonly BrokerFault[] = ['failover', 'redis-kill'];
  readonly proxied = false;
  private group: RedisClusterGroup | undefined;

  async start(): Promise<void> {
    this.group = await startRedisCluster({ nodeTimeoutMs: NODE_TIMEOUT_MS });
  }

  port(): number | undefined {
    return undefined;
  }

  gatewayEnv(): Record<string, string> {
    return { REDIS_CLUSTER: this.required().seedsEnv };
  }

  async fault(kind: BrokerFault, rng: Rng, begin: () => void): Promise<string> {
    const group = this.required();
    const masters = await group.masters();
    const master = rng.pick(masters);
    // A replica still syncing (after the last fault on this shard) cannot take over yet.
    const info = await withAdmin(master.port, (redis) => redis.info('replication'));
    if (!/state=online/.test(info)) {
      throw new FaultNotNow(`master ${master.port} has no replica in sync yet`);
    }
    if (kind === 'failover') {
      const replica = master.replicaPorts[0];
      if (replica === undefined) throw new FaultNotNow(`master ${master.port} has no replica yet`);
      begin();
      await withAdmin(replica, (redis) => redis.call('CLUSTER', 'FAILOVER'));
      await group.promoted(master.port, master.slots);
      // Healed once every node knows: the next fault picks its master from any node's view.
      await group.settled();
      return `replica ${replica} took over from ${master.port}`;
    }
    if (kind !== 'redis-kill') throw new Error(`the cluster broker has no fault ${kind}`);
    if (master.replicaPorts.length === 0) {
      throw new FaultNotNow(`master ${master.port} has no replica to promote`);
    }
    begin();
    await group.node(master.port).crash();
    const downMs = rng.int(200, 2_000);
    try {
      const promotion = await group.promoted(master.port, master.slots);
      await sleep(downMs);
      return `killed ${master.port}, promoted ${promotion.toPort}, back after ${downMs} ms`;
    } finally {
      // Back on its port and directory (its nodes.conf), promoted or not: it rejoins, and the
      // fault has healed once every node agrees again and every replica is in sync.
      await group.restart(master.port);
      await group.settled();
    }
  }

  async snapshot(): Promise<void> {
    // Nothing to keep: this broker has no restart-from-a-snapshot fault.
  }

  async stop(): Promise<void> {
    await this.group?.close();
  }

  abort(): void {
    for (const node of this.group?.nodes ?? []) node.child.kill('SIGKILL');
  }

  private required(): RedisClusterGroup {
    if (this.group === undefined) throw new Error('cluster broker not started');
    return this.group;
  }
}
