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
    this.servers.set(this.group.master.port, this.group.master);
    this.servers.set(this.group.replica.port, this.group.replica);
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
    const promoted = within(group.promoted(), PROMOTION_TIMEOUT_MS, `a promotion after ${kind}`);
    promoted.catch(() => undefined); // awaited below; a failure before that is reported there
    if (kind === 'failover') {
      await this.onSentinel((s) => s.call('SENTINEL', 'FAILOVER', group.masterName)).catch(
        (error: unknown) => {
          // The replica is still syncing after the last promotion: nothing to promote yet.
          if (String(error).includes('NOGOODSLAVE')) throw new FaultNotNow(String(error));
          throw error;
        },
      );
      begin();
      const promotion = await promoted;
      return `${promotion.fromPort} -> ${promotion.toPort}`;
    }
    if (kind !== 'redis-kill') throw new Error(`the sentinel broker has no fault ${kind}`);
    const master = this.servers.get(masterPort);
    begin();
    await master?.crash();
    const downMs = rng.int(200, 2_000);
    let newMaster = masterPort;
    try {
      newMaster = (await promoted).toPort;
      await sleep(downMs);
      return `killed ${masterPort}, promoted ${newMaster}, back as a replica after ${downMs} ms`;
    } finally {
      // Back on its port, promoted or not (then as the master it was; the sentinels decide).
      await master?.close();
      const replicaOf = newMaster === masterPort ? undefined : newMaster;
      this.servers.set(masterPort, await startRedisServer({ port: masterPort, replicaOf }));
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

  private onSentinel<T>(run: (sentinel: Redis) => Promise<T>): Promise<T> {
    const sentinel = this.required().sentinels[0];
    if (sentinel === undefined) throw new Error('no sentinel');
    return withAdmin(sentinel.port, run);
  }
}

/** `promise`, or an error naming `what` once `ms` have passed without it. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
