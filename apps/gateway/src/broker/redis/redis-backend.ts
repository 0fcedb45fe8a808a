import type { Logger } from '../../logger';
import { BrokerUnavailableError } from '../errors';
import { ClusterLink } from './cluster-link';
import { BrokerFence } from './fence';
import type { RedisClient, RedisLink } from './link';
import { RedisNames } from './names';
import { redisOutcome } from './outcome';
import { RedisOutage } from './outage';
import { describeTarget, type RedisTarget } from './redis-target';
import { ALL_SCRIPTS } from './scripts/all';
import type { LuaScript, ScriptCall } from './scripts/lua-script';
import { SingleLink } from './single-link';

export interface RedisBackendOptions {
  /** One server (REDIS_URL), a Sentinel group's master (REDIS_SENTINELS) or a cluster (REDIS_CLUSTER). */
  target: RedisTarget;
  /** Prefix of every key and channel, so several clusters can share one Redis. @default 'chat' */
  prefix: string;
  /** A command slower than this fails with BrokerUnavailableError. @default 2_000 */
  commandTimeoutMs: number;
  logger: Logger;
}

/** Receives what the subscription connection brings, and the backend's ups and downs. */
export interface BackendListener {
  message(channel: string, payload: string): void;
  /** Commands and subscriptions work again (or for the first time); scripts are loaded. */
  up(): void;
  down(reason: string): void;
}

/**
 * One Redis (or Redis Cluster), as every part of a node uses it: its connections (a RedisLink),
 * the names of every key and channel, the Lua scripts, and the mapping of any Redis failure to
 * BrokerUnavailableError. RedisBus and RedisState both take this unit; neither sees a client.
 */
export class RedisBackend {
  readonly names: RedisNames;
  /** What this node's writes carry to be refused after a loss it has not seen (see BrokerFence). */
  readonly fence = new BrokerFence();
  /** True on a Redis Cluster: scripts touch one slot each, channels are sharded. */
  readonly sharded: boolean;
  private readonly outage: RedisOutage;
  private readonly link: RedisLink;
  private listener: BackendListener | undefined;
  private wasUp = false;
  private closing = false;
  private closed: Promise<void> | undefined;

  constructor(private readonly options: RedisBackendOptions) {
    const { target, logger } = options;
    this.sharded = target.kind === 'cluster';
    this.names = new RedisNames(options.prefix, this.sharded);
    this.outage = new RedisOutage(
      describeTarget(target),
      logger,
      target.kind === 'sentinel' ? 'no writable redis master' : undefined,
    );
    const events = {
      message: (channel: string, payload: string) => this.listener?.message(channel, payload),
      ready: () => this.maybeUp(),
      lost: (reason: string) => this.lost(reason),
      failed: (error: string) => {
        if (!this.closing) this.outage.failed(error);
      },
      serverChanged: (reason: string) => {
        logger.warn({ reason }, 'redis master changed; writes it lacks count as lost');
        this.fence.suspect(reason);
      },
      serverUnknown: () => this.fence.serverUnknown(),
      serverNoted: () => this.fence.serverNoted(),
    };
    this.link =
      target.kind === 'cluster'
        ? new ClusterLink(target, options.commandTimeoutMs, ALL_SCRIPTS, events, logger)
        : new SingleLink(target, options.commandTimeoutMs, ALL_SCRIPTS, events, logger);
  }

  /** Starts connecting; resolves at once. `up` tells when Redis is reachable. */
  connect(): void {
    this.link.connect();
  }

  setListener(listener: BackendListener): void {
    this.listener = listener;
  }

  isUp(): boolean {
    return this.link.isReady();
  }

  /** Undefined while up; else where Redis is, since when it is unreachable, and why. */
  outageReason(): string | undefined {
    return this.isUp() ? undefined : this.outage.describe();
  }

  get logger(): Logger {
    return this.options.logger;
  }

  /** The Lua command that publishes to our channels (PUBLISH; SPUBLISH on a cluster). */
  get publishCommand(): 'PUBLISH' | 'SPUBLISH' {
    return this.link.publishCommand;
  }

  /** One key tag per master of a cluster (one Redis: a single empty tag). */
  shards(): string[] {
    return this.link.shards();
  }

  run<K extends string, A extends string, R>(
    script: LuaScript<K, A, R>,
    call: ScriptCall<K, A>,
  ): Promise<R> {
    return this.call((redis) => script.run(redis, call));
  }

  /** Publishes on one of our channels; resolves to the number of subscribers that got it. */
  async publish(channel: string, payload: string): Promise<number> {
    const receivers = await this.call((redis) =>
      this.sharded ? redis.spublish(channel, payload) : redis.publish(channel, payload),
    );
    return Number(receivers);
  }

  /**
   * Runs plain commands on the command connection; failures become BrokerUnavailableError,
   * telling whether the commands may have run (see redisOutcome).
   */
  async call<T>(operation: (redis: RedisClient) => Promise<T>): Promise<T> {
    try {
      this.link.coalesce();
      return await operation(this.link.commands);
    } catch (error) {
      throw new BrokerUnavailableError(error, redisOutcome(error));
    }
  }

  async subscribe(channel: string): Promise<void> {
    try {
      await this.link.subscribe(channel);
    } catch (error) {
      throw new BrokerUnavailableError(error, redisOutcome(error));
    }
  }

  unsubscribe(channel: string): Promise<void> {
    return this.link.unsubscribe(channel);
  }

  /** Closes every connection; the bus and the state each call it, so a second call waits. */
  close(): Promise<void> {
    this.closing = true;
    this.closed ??= this.link.close();
    return this.closed;
  }

  private maybeUp(): void {
    if (this.wasUp || this.closing || !this.isUp()) return;
    this.wasUp = true;
    this.outage.up();
    this.listener?.up();
  }

  private lost(reason: string): void {
    if (!this.wasUp || this.closing) return;
    this.wasUp = false;
    this.outage.lost(reason);
    this.listener?.down(reason);
  }
}
