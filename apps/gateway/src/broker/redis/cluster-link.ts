import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../../logger';
import { keySlot } from './key-slot';
import { connectionOptions, RESUBSCRIBE_BATCH, type LinkEvents, type RedisLink } from './link';
import type { RedisTarget } from './redis-target';
import type { LoadableScript } from './scripts/lua-script';

/** How often the link checks the cluster's masters against its subscriptions. @default 500 */
const SYNC_EVERY_MS = 500;

/**
 * A cluster node's connection policy: as on one Redis, except that a lost node is not retried:
 * the slot map says where its slots went (a promoted replica), and that is where we go.
 */
function nodeOptions(commandTimeoutMs: number): RedisOptions {
  return { ...connectionOptions(commandTimeoutMs), retryStrategy: () => null };
}

/** One master's subscription connection and the channels active on it. */
interface ShardSubscriber {
  redis: Redis;
  active: Set<string>;
  connected: Promise<void>;
}

/**
 * A Redis Cluster: an ioredis cluster client for commands (each routed to the master of its
 * keys' slot, following MOVED), and one subscription connection per master for sharded pub/sub
 * (SSUBSCRIBE is answered only by the shard that serves the channel's slot, and a shard only
 * forwards its own channels: a node receives a room's traffic from that room's shard alone).
 *
 * The link checks the slot map (on every ioredis `refresh`, every SYNC_EVERY_MS, and when a
 * subscription connection closes): a master it has no connection to gets one and the scripts,
 * every wanted channel is SSUBSCRIBEd at its slot's master, a connection to a server that
 * serves no slot any more (a master that died or was demoted) is closed. Ready means: the
 * cluster client is ready and every wanted channel is active where its slot is served.
 */
export class ClusterLink implements RedisLink {
  readonly commands: Cluster;
  readonly publishCommand = 'SPUBLISH';
  /** Channels this node wants, wherever they are served. */
  private readonly channels = new Set<string>();
  private readonly subscribers = new Map<string, ShardSubscriber>();
  /** Masters (host:port) that have every script loaded. */
  private readonly loaded = new Set<string>();
  /** A key tag per master, whose slot it serves (see shards()). */
  private readonly tags = new Map<string, string>();
  private readonly timer: NodeJS.Timeout;
  private ready = false;
  private syncing: Promise<void> | undefined;
  private closing = false;

  constructor(
    private readonly target: Extract<RedisTarget, { kind: 'cluster' }>,
    private readonly commandTimeoutMs: number,
    private readonly scripts: readonly LoadableScript[],
    private readonly events: LinkEvents,
    private readonly logger: Logger,
  ) {
    const node = nodeOptions(commandTimeoutMs);
    this.commands = new Cluster(
      target.seeds.map(({ host, port }) => ({ host, port })),
      {
        lazyConnect: true,
        enableOfflineQueue: false,
        enableAutoPipelining: true,
        scaleReads: 'master',
        maxRedirections: 16,
        // A command lost with its connection is not sent again (its outcome is unknown: the
        // caller is told so and may retry with its cid), as on one Redis.
        retryDelayOnFailover: 0,
        retryDelayOnClusterDown: 100,
        retryDelayOnTryAgain: 100,
        slotsRefreshTimeout: 1_000,
        slotsRefreshInterval: 1_000,
        clusterRetryStrategy: (attempt) => Math.min(100 * attempt, 1_000),
        redisOptions: { ...node, password: target.password },
      },
    );
    this.commands.on('error', (error: Error) => {
      logger.debug({ err: error.message }, 'redis cluster error');
      events.failed(error.message);
    });
    this.commands.on('node error', (error: Error, key: string) => {
      logger.debug({ node: key, err: String(error) }, 'redis cluster node error');
      events.failed(`${key}: ${String(error)}`);
    });
    this.commands.on('close', () => this.lose('cluster connection closed'));
    this.commands.on('ready', () => void this.sync());
    this.commands.on('refresh', () => void this.sync());
    this.timer = setInterval(() => void this.sync(), SYNC_EVERY_MS);
    this.timer.unref();
  }

  connect(): void {
    this.commands
      .connect()
      .catch((error: unknown) =>
        this.logger.debug({ err: String(error) }, 'redis cluster connect attempt failed'),
      );
  }

  isReady(): boolean {
    return this.ready && this.commands.status === 'ready';
  }

  async subscribe(channel: string): Promise<void> {
    this.channels.add(channel);
    const owner = this.owner(channel);
    const subscriber = owner === undefined ? undefined : this.subscribers.get(owner);
    try {
      if (!subscriber || subscriber.redis.status !== 'ready') {
        throw new Error(`Stream isn't writeable: no subscription connection for ${channel}`);
      }
      await subscriber.redis.ssubscribe(channel);
      subscriber.active.add(channel);
    } catch (error) {
      this.channels.delete(channel);
      throw error;
    }
  }

  async unsubscribe(channel: string): Promise<void> {
    this.channels.delete(channel);
    for (const subscriber of this.subscribers.values()) {
      if (!subscriber.active.delete(channel)) continue;
      if (subscriber.redis.status === 'ready') {
        await subscriber.redis.sunsubscribe(channel).catch(() => undefined);
      }
    }
  }

  coalesce(): void {
    // The cluster client auto-pipelines per node (one write per node and turn).
  }

  shards(): string[] {
    return [...this.masters()].map((master) => this.tag(master));
  }

  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.timer);
    this.channels.clear();
    await this.syncing?.catch(() => undefined);
    const subscribers = [...this.subscribers.values()].map((s) => s.redis);
    this.subscribers.clear();
    await Promise.all(
      [this.commands, ...subscribers].map((redis) => redis.quit().catch(() => undefined)),
    );
    for (const redis of subscribers) redis.disconnect();
    this.commands.disconnect();
  }

  /** The master (host:port) serving the slot of `name`, as the client knows it now. */
  private owner(name: string): string | undefined {
    return this.commands.slots[keySlot(name)]?.[0];
  }

  private masters(): Set<string> {
    const masters = new Set<string>();
    for (const nodes of this.commands.slots) if (nodes?.[0]) masters.add(nodes[0]);
    return masters;
  }

  /** A tag (`shard-<n>`) whose slot `master` serves: the first that does, cached. */
  private tag(master: string): string {
    let tag = this.tags.get(master);
    for (let n = 0; tag === undefined && n < 1_000_000; n++) {
      if (this.owner(`shard-${n}`) === master) tag = `shard-${n}`;
    }
    if (tag === undefined) throw new Error(`no slot of ${master} found`);
    this.tags.set(master, tag);
    return tag;
  }

  private sync(): Promise<void> {
    this.syncing ??= this.reconcile().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  private async reconcile(): Promise<void> {
    if (this.closing || this.commands.status !== 'ready') return;
    const masters = this.masters();
    for (const [master, subscriber] of this.subscribers) {
      if (masters.has(master) && subscriber.redis.status !== 'end') continue;
      this.subscribers.delete(master);
      this.tags.delete(master);
      subscriber.redis.disconnect();
    }
    for (const master of this.loaded) if (!masters.has(master)) this.loaded.delete(master);
    let complete = masters.size > 0;
    const wanted = new Map<string, string[]>();
    for (const channel of this.channels) {
      const owner = this.owner(channel);
      if (owner === undefined) complete = false;
      else wanted.set(owner, [...(wanted.get(owner) ?? []), channel]);
    }
    await Promise.all(
      [...masters].map(async (master) => {
        try {
          await this.loadScripts(master);
          const subscriber = this.subscriberOf(master);
          await subscriber.connected;
          const missing = (wanted.get(master) ?? []).filter((c) => !subscriber.active.has(c));
          for (let i = 0; i < missing.length; i += RESUBSCRIBE_BATCH) {
            const batch = missing.slice(i, i + RESUBSCRIBE_BATCH);
            // One SSUBSCRIBE takes channels of one slot only.
            await Promise.all(batch.map((channel) => subscriber.redis.ssubscribe(channel)));
            for (const channel of batch) subscriber.active.add(channel);
          }
        } catch (error) {
          complete = false;
          this.logger.debug({ master, err: String(error) }, 'shard not in sync yet; will retry');
        }
      }),
    );
    if (this.closing || complete === this.ready) return;
    if (complete) {
      this.ready = true;
      this.events.ready();
    } else {
      this.lose('not subscribed at every master of the slot map yet');
    }
  }

  private async loadScripts(master: string): Promise<void> {
    if (this.loaded.has(master)) return;
    const node = this.commands
      .nodes('master')
      .find(({ options }) => `${options.host}:${options.port}` === master);
    if (!node) throw new Error(`no connection to master ${master} yet`);
    await Promise.all(this.scripts.map((s) => node.script('LOAD', s.source)));
    this.loaded.add(master);
  }

  private subscriberOf(master: string): ShardSubscriber {
    const existing = this.subscribers.get(master);
    if (existing) return existing;
    const split = master.lastIndexOf(':');
    const redis = new Redis({
      ...nodeOptions(this.commandTimeoutMs),
      host: master.slice(0, split),
      port: Number(master.slice(split + 1)),
      password: this.target.password,
    });
    const subscriber: ShardSubscriber = { redis, active: new Set(), connected: redis.connect() };
    subscriber.connected.catch(() => undefined);
    redis.on('error', (error: Error) => this.events.failed(`${master}: ${error.message}`));
    redis.on('smessage', (channel: string, payload: string) =>
      this.events.message(channel, payload),
    );
    redis.on('close', () => {
      subscriber.active.clear();
      if (this.subscribers.get(master) !== subscriber) return;
      this.subscribers.delete(master);
      this.lose(`subscription connection to ${master} closed`);
      this.commands.refreshSlotsCache();
    });
    this.subscribers.set(master, subscriber);
    return subscriber;
  }

  private lose(reason: string): void {
    if (this.closing) return;
    this.ready = false;
    this.events.lost(reason);
  }
}
