import type { Redis, RedisOptions } from 'ioredis';
import type { Logger } from '../../logger';
import { BrokerUnavailableError } from '../errors';
import { RedisNames } from './names';
import { redisOutcome } from './outcome';
import { RedisOutage } from './outage';
import { describeTarget, openRedis, type RedisTarget } from './redis-target';
import { ALL_SCRIPTS } from './scripts/all';
import type { LuaScript, ScriptCall } from './scripts/lua-script';

export interface RedisBackendOptions {
  /** One server (REDIS_URL) or a Sentinel group's master (REDIS_SENTINELS). */
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

/** Connection settings: fail fast while Redis is away instead of queueing without bound. */
function connectionOptions(commandTimeoutMs: number): RedisOptions {
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: false,
    commandTimeout: commandTimeoutMs,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 5), 1_000),
  };
}

/** Channels per SUBSCRIBE when re-subscribing after a reconnect. @default 1_000 */
const RESUBSCRIBE_BATCH = 1_000;

/**
 * One Redis, as every part of a node uses it: a command connection (auto-pipelined, so calls
 * issued in order run in order) and a subscription connection, the names of every key and
 * channel, the Lua scripts (loaded on each `ready`), and the mapping of any Redis failure to
 * BrokerUnavailableError. RedisBus and RedisState both take this unit; neither sees a client.
 */
export class RedisBackend {
  readonly names: RedisNames;
  private readonly outage: RedisOutage;
  private readonly commands: Redis;
  private readonly subscriber: Redis;
  /** Channels this node wants; re-subscribed after every reconnect. */
  private readonly channels = new Set<string>();
  private listener: BackendListener | undefined;
  private subscribed = false;
  private scriptsLoaded = false;
  private wasUp = false;
  private closing = false;
  private closed: Promise<void> | undefined;

  constructor(private readonly options: RedisBackendOptions) {
    this.names = new RedisNames(options.prefix);
    const { target } = options;
    this.outage = new RedisOutage(
      describeTarget(target),
      options.logger,
      target.kind === 'sentinel' ? 'no writable redis master' : undefined,
    );
    const base = connectionOptions(options.commandTimeoutMs);
    this.commands = openRedis(target, { ...base, enableAutoPipelining: true });
    this.subscriber = openRedis(target, base);
    for (const [role, redis] of [
      ['commands', this.commands],
      ['subscriber', this.subscriber],
    ] as const) {
      redis.on('error', (error: Error) => {
        options.logger.debug({ role, err: error.message }, 'redis connection error');
        if (!this.closing) this.outage.failed(error.message);
      });
      redis.on('close', () => this.lost(`${role} connection closed`));
    }
    this.commands.on('ready', () => void this.loadScripts());
    this.subscriber.on('ready', () => void this.resubscribe());
    this.subscriber.on('message', (channel: string, payload: string) =>
      this.listener?.message(channel, payload),
    );
  }

  /** Starts connecting; resolves at once. `up` tells when Redis is reachable. */
  connect(): void {
    for (const redis of [this.commands, this.subscriber]) {
      redis
        .connect()
        .catch((error: unknown) =>
          this.options.logger.debug({ err: String(error) }, 'redis connect attempt failed'),
        );
    }
  }

  setListener(listener: BackendListener): void {
    this.listener = listener;
  }

  isUp(): boolean {
    return (
      this.subscribed &&
      this.scriptsLoaded &&
      this.commands.status === 'ready' &&
      this.subscriber.status === 'ready'
    );
  }

  /** Undefined while up; else where Redis is, since when it is unreachable, and why. */
  outageReason(): string | undefined {
    return this.isUp() ? undefined : this.outage.describe();
  }

  run<K extends string, A extends string, R>(
    script: LuaScript<K, A, R>,
    call: ScriptCall<K, A>,
  ): Promise<R> {
    return this.call((redis) => script.run(redis, call));
  }

  /**
   * Runs plain commands on the command connection; failures become BrokerUnavailableError,
   * telling whether the commands may have run (see redisOutcome).
   */
  async call<T>(operation: (redis: Redis) => Promise<T>): Promise<T> {
    try {
      return await operation(this.commands);
    } catch (error) {
      throw new BrokerUnavailableError(error, redisOutcome(error));
    }
  }

  async subscribe(channel: string): Promise<void> {
    this.channels.add(channel);
    try {
      await this.subscriber.subscribe(channel);
    } catch (error) {
      this.channels.delete(channel);
      throw new BrokerUnavailableError(error, redisOutcome(error));
    }
  }

  async unsubscribe(channel: string): Promise<void> {
    this.channels.delete(channel);
    // While disconnected there is nothing to undo: resubscribe() skips dropped channels.
    if (this.subscriber.status === 'ready') {
      await this.subscriber.unsubscribe(channel).catch(() => undefined);
    }
  }

  /** Closes both connections; the bus and the state each call it, so a second call waits. */
  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    this.closing = true;
    this.channels.clear();
    const clients = [this.commands, this.subscriber];
    await Promise.all(clients.map((redis) => redis.quit().catch(() => undefined)));
    for (const redis of clients) redis.disconnect();
  }

  /** (Re)subscribes every wanted channel; only then is the node back in the conversation. */
  private async resubscribe(): Promise<void> {
    const channels = [...this.channels];
    try {
      for (let i = 0; i < channels.length; i += RESUBSCRIBE_BATCH) {
        await this.subscriber.subscribe(...channels.slice(i, i + RESUBSCRIBE_BATCH));
      }
    } catch (error) {
      this.options.logger.debug({ err: String(error) }, 'resubscribe failed; will retry');
      return;
    }
    this.subscribed = true;
    this.maybeUp();
  }

  private async loadScripts(): Promise<void> {
    this.scriptsLoaded = false;
    try {
      await Promise.all(ALL_SCRIPTS.map((s) => this.commands.script('LOAD', s.source)));
      this.scriptsLoaded = true;
      this.maybeUp();
    } catch (error) {
      this.options.logger.debug({ err: String(error) }, 'loading scripts failed; will retry');
      setTimeout(() => {
        if (this.commands.status === 'ready' && !this.scriptsLoaded) void this.loadScripts();
      }, 500).unref();
    }
  }

  private maybeUp(): void {
    if (this.wasUp || !this.isUp()) return;
    this.wasUp = true;
    this.outage.up();
    this.listener?.up();
  }

  private lost(reason: string): void {
    this.subscribed = this.subscribed && this.subscriber.status === 'ready';
    if (!this.wasUp || this.closing) return;
    this.wasUp = false;
    this.outage.lost(reason);
    this.listener?.down(reason);
  }
}
