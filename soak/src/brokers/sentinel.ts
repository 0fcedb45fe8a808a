import { setTimeout as sleep } from 'node:timers/promises';
import {
  startRedisServer,
  startSentinelGroup,
  type RedisProcess,
  type SentinelGroup,
} from '@chat/test-support';
import type { Redis } from 'ioredis';
import { withAdmin } from './admin';
import type { Rng } from '../rng';
import { FaultNotNow, type Broker, type BrokerFault } from './broker';

/** How long a promotion may take before the fault counts as stuck. */
const PROMOTION_TIMEOUT_MS = 30_000;

/**
 * A master, a replica and three sentinels (libs/test-support's group). Gateways get
 * REDIS_SENTINELS and follow promotions; the sentinels hand out the servers' own addresses, so
 * there is no proxy between gateways and Redis here (no gateway-Redis network faults).
 */
export class SentinelRedis implements Broker {
  readonly name = 'sentinel';
  readonly faults: readonly BrokerFault[] = ['failover', 'redis-kill'];
  readonly proxied = false;
  private group: SentinelGroup | undefined;
  /** Data servers by port, restarted ones included. */
  private readonly servers = new Map<number, RedisProcess>();

  async start(): Promise<void> {
    this.group = await startSentinelGroup();
    for (const server of [this.group.master, this.group.replica]) {
      this.servers.set(server.port, server);
      await fullSyncAtOnce(server.port);
    }
  }

  port(): number | undefined {
    return undefined;
  }

  gatewayEnv(): Record<string, string> {
    const group = this.required();
    return { REDIS_SENTINELS: group.sentinelsEnv, REDIS_SENTINEL_MASTER: group.masterName };
  }

  async fault(kind: BrokerFault, rng: Rng, begin: () => void): Promise<string> {
    const group = this.required();
    const masterPort = await this.masterPort();
    // A promotion of a replica still in its first sync would make an empty master: a loss of
    // everything, which is `redis-empty`'s business, not a fail-over's (the sentinels do not
    // wait for the sync; SOAK.md, "Sentinel: ...").
    const replicaPort = await this.replicaInSync(masterPort);
    if (kind === 'failover') {
      await this.onSentinel((s) => s.call('SENTINEL', 'FAILOVER', group.masterName)).catch(
        (error: unknown) => {
          // The replica is still syncing after the last promotion: nothing to promote yet.
          if (String(error).includes('NOGOODSLAVE')) throw new FaultNotNow(String(error));
          throw error;
        },
      );
      begin();
      const toPort = await this.promotedFrom(masterPort, kind);
      // The old master stays a master until the sentinels' next look at it (up to 10 s): made a
      // replica now, as they would then, so the next fault finds a replica in sync.
      await withAdmin(masterPort, (r) => r.call('REPLICAOF', '127.0.0.1', String(toPort)));
      await this.settled(toPort);
      return `${masterPort} -> ${toPort}`;
    }
    if (kind !== 'redis-kill') throw new Error(`the sentinel broker has no fault ${kind}`);
    const master = this.servers.get(masterPort);
    begin();
    await master?.crash();
    const downMs = rng.int(200, 2_000);
    try {
      const toPort = await this.promotedFrom(masterPort, kind);
      await sleep(downMs);
      return `killed ${masterPort}, promoted ${toPort}, back as a replica after ${downMs} ms`;
    } finally {
      // Back on its port as a replica of the survivor, promoted or not: never as an empty master
      // the sentinels would still follow (its data is gone: it runs without persistence).
      await master?.close();
      const replicaOf = await this.masterPort().catch(() => replicaPort);
      const back = replicaOf === masterPort ? replicaPort : replicaOf;
      this.servers.set(masterPort, await startRedisServer({ port: masterPort, replicaOf: back }));
      await fullSyncAtOnce(masterPort);
      await this.settled(back);
    }
  }

  async snapshot(): Promise<void> {
    // Nothing to keep: this broker has no restart-from-a-snapshot fault.
  }

  async stop(): Promise<void> {
    await Promise.all([...this.servers.values()].map((server) => server.close()));
    await this.group?.close();
  }

  abort(): void {
    for (const server of this.servers.values()) server.child.kill('SIGKILL');
    for (const sentinel of this.group?.sentinels ?? []) sentinel.child.kill('SIGKILL');
  }

  private required(): SentinelGroup {
    if (this.group === undefined) throw new Error('sentinel broker not started');
    return this.group;
  }

  private async masterPort(): Promise<number> {
    const group = this.required();
    const reply = await this.onSentinel((s) =>
      s.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', group.masterName),
    );
    const port = Array.isArray(reply) ? Number(reply[1]) : NaN;
    if (!Number.isInteger(port)) throw new Error(`sentinel gave no master: ${String(reply)}`);
    return port;
  }

  /** The replica's port, once it is in sync with the master on `masterPort`; else FaultNotNow. */
  private async replicaInSync(masterPort: number): Promise<number> {
    const replicaPort = [...this.servers.keys()].find((port) => port !== masterPort);
    if (replicaPort === undefined) throw new Error('the sentinel broker has no replica');
    const info = await withAdmin(replicaPort, (r) => r.info('replication')).catch(() => '');
    const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
    const inSync =
      field('role') === 'slave' &&
      field('master_port') === String(masterPort) &&
      field('master_link_status') === 'up' &&
      field('master_sync_in_progress') === '0';
    if (!inSync) throw new FaultNotNow(`replica ${replicaPort} is not in sync with ${masterPort}`);
    return replicaPort;
  }

  /** Waits (at most PROMOTION_TIMEOUT_MS) until the replica of `masterPort` is in sync. */
  private async settled(masterPort: number): Promise<void> {
    const deadline = Date.now() + PROMOTION_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (
        await this.replicaInSync(masterPort).then(
          () => true,
          () => false,
        )
      )
        return;
      await sleep(100);
    }
  }

  /**
   * The new master's port once the sentinels name another master than `masterPort`. Asked, not
   * taken from a `+switch-master` line: one announced late, by an earlier fault, is no promotion
   * of this one.
   */
  private async promotedFrom(masterPort: number, kind: BrokerFault): Promise<number> {
    const deadline = Date.now() + PROMOTION_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const port = await this.masterPort().catch(() => masterPort);
      if (port !== masterPort) return port;
      await sleep(100);
    }
    throw new Error(`no promotion after ${kind} within ${PROMOTION_TIMEOUT_MS} ms`);
  }

  private onSentinel<T>(run: (sentinel: Redis) => Promise<T>): Promise<T> {
    const sentinel = this.required().sentinels[0];
    if (sentinel === undefined) throw new Error('no sentinel');
    return withAdmin(sentinel.port, run);
  }
}

/**
 * A full sync starts at once, not after Redis' 5-s wait for more replicas (a test group has
 * one), so a restarted or demoted server is back in sync within the fault.
 */
async function fullSyncAtOnce(port: number): Promise<void> {
  await withAdmin(port, (r) => r.config('SET', 'repl-diskless-sync-delay', '0'));
}
