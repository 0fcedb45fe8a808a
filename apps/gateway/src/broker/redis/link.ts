import type { Cluster, Redis, RedisOptions } from 'ioredis';

/** A command connection: one Redis, or a Redis Cluster (commands routed by their keys' slot). */
export type RedisClient = Redis | Cluster;

/** What a link reports to its backend. */
export interface LinkEvents {
  /** A message on a subscribed channel. */
  message(channel: string, payload: string): void;
  /** Something changed that may make the link ready (see RedisLink.isReady). */
  ready(): void;
  /** A working connection was lost (the link is not ready until `ready`). */
  lost(reason: string): void;
  /** A connection attempt or connection failed (for the outage log). */
  failed(error: string): void;
  /**
   * The link reached another server than before (Sentinel: a promoted replica, or a restarted
   * master): it may lack writes the previous one acknowledged (see BrokerFence.suspect).
   */
  serverChanged(reason: string): void;
  /**
   * The command connection was lost: which server the next one reaches is not known until
   * `serverNoted` (Sentinel only; see BrokerFence.serverUnknown).
   */
  serverUnknown(): void;
  /** The server the command connection reached is known (after `serverChanged` if it changed). */
  serverNoted(): void;
}

/**
 * The connections of a RedisBackend: what differs between one Redis (a command and a
 * subscription connection) and a Redis Cluster (a cluster client, and a subscription connection
 * per master for sharded pub/sub). Both re-subscribe every wanted channel after a reconnect or a
 * fail-over and load the scripts on every server that runs them.
 */
export interface RedisLink {
  readonly commands: RedisClient;
  /**
   * Called before each use of `commands`: the commands issued in one turn of the event loop go
   * to Redis together, in the order issued (one Redis: the first at once, the rest in one write
   * at the end of the turn; a cluster: its client's auto-pipelining).
   */
  coalesce(): void;
  /** The command that publishes to our channels: PUBLISH, or SPUBLISH on a cluster. */
  readonly publishCommand: 'PUBLISH' | 'SPUBLISH';
  connect(): void;
  /** Commands work, every wanted channel is subscribed and the scripts are loaded. */
  isReady(): boolean;
  /** Resolves once the channel is subscribed (later publishes reach us). */
  subscribe(channel: string): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  /** One key tag per master, whose slot that master serves (one Redis: one empty tag). */
  shards(): string[];
  close(): Promise<void>;
}

/** Connection settings: fail fast while Redis is away instead of queueing without bound. */
export function connectionOptions(commandTimeoutMs: number): RedisOptions {
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

/** Channels per (S)SUBSCRIBE when re-subscribing after a reconnect. @default 1_000 */
export const RESUBSCRIBE_BATCH = 1_000;
