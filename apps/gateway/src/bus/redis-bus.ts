import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import {
  BusUnavailableError,
  CID_TTL_MS,
  type AppendOptions,
  type AppendOutcome,
  type Bus,
  type BusHandler,
  type PublishOptions,
  type PublishOutcome,
  type StoredRange,
} from './bus';
import {
  decodeEnvelope,
  encodeEnvelope,
  type Envelope,
  type MessageDraft,
  type MessageEnvelope,
} from './envelope';
import { APPEND, LuaScript, PUBLISH_ONCE, RANGE } from './redis-scripts';
import { channelName, parseChannel, type Topic } from './topics';

export interface RedisBusOptions {
  url: string;
  /** Prefix of every key and channel, so several clusters can share one Redis. @default 'chat' */
  prefix: string;
  /** Messages kept per room (at least; trimming is approximate). @default 1_000 */
  historyLimit: number;
  /** A command slower than this fails with BusUnavailableError. @default 2_000 */
  commandTimeoutMs: number;
  logger: Logger;
}

/** Connection settings: fail fast while Redis is away instead of queueing without bound. */
export function redisOptions(commandTimeoutMs: number): RedisOptions {
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

/**
 * The bus over Redis: one connection publishes (auto-pipelined), another subscribes. Room
 * messages are stored in a stream per room; see redis-scripts.ts for the atomic steps.
 */
export class RedisBus implements Bus {
  readonly pub: Redis;
  private readonly sub: Redis;
  private readonly channels = new Set<string>();
  private handler: BusHandler | undefined;
  private subscribed = false;
  private scriptsLoaded = false;
  private wasUp = false;
  private closing = false;

  constructor(private readonly options: RedisBusOptions) {
    const base = redisOptions(options.commandTimeoutMs);
    this.pub = new Redis(options.url, { ...base, enableAutoPipelining: true });
    this.sub = new Redis(options.url, base);
    for (const [role, redis] of [
      ['publisher', this.pub],
      ['subscriber', this.sub],
    ] as const) {
      redis.on('error', (error: Error) =>
        options.logger.debug({ role, err: error.message }, 'redis connection error'),
      );
      redis.on('close', () => this.lost(`${role} connection closed`));
    }
    this.pub.on('ready', () => void this.loadScripts());
    this.sub.on('ready', () => void this.resubscribe());
    this.sub.on('message', (channel: string, payload: string) => this.receive(channel, payload));
  }

  /** Starts connecting; resolves at once. Readiness shows when Redis is reachable. */
  connect(): void {
    for (const redis of [this.pub, this.sub]) {
      redis
        .connect()
        .catch((error: unknown) =>
          this.options.logger.debug({ err: String(error) }, 'redis connect attempt failed'),
        );
    }
  }

  setHandler(handler: BusHandler): void {
    this.handler = handler;
  }

  isUp(): boolean {
    return (
      this.subscribed &&
      this.scriptsLoaded &&
      this.pub.status === 'ready' &&
      this.sub.status === 'ready'
    );
  }

  async subscribe(topic: Topic): Promise<void> {
    const channel = this.channel(topic);
    this.channels.add(channel);
    try {
      await this.sub.subscribe(channel);
    } catch (error) {
      this.channels.delete(channel);
      throw new BusUnavailableError(error);
    }
  }

  async unsubscribe(topic: Topic): Promise<void> {
    const channel = this.channel(topic);
    this.channels.delete(channel);
    // While disconnected there is nothing to undo: resubscribe() skips dropped channels.
    if (this.sub.status === 'ready') await this.sub.unsubscribe(channel).catch(() => undefined);
  }

  async publish(
    topic: Topic,
    envelope: Envelope,
    options: PublishOptions = {},
  ): Promise<PublishOutcome> {
    const channel = this.channel(topic);
    const payload = encodeEnvelope(envelope);
    const { limit, dedupe } = options;
    let reply: unknown;
    try {
      if (!limit && !dedupe) {
        return { status: 'published', receivers: await this.pub.publish(channel, payload) };
      }
      reply = await PUBLISH_ONCE.run(this.pub, [
        this.key('rate', limit?.bucket ?? ''),
        this.key('once', dedupe?.key ?? ''),
        channel,
        payload,
        limit ? '1' : '0',
        limit?.perSecond ?? 0,
        limit?.burst ?? 0,
        dedupe ? '1' : '0',
        dedupe?.id ?? '',
        CID_TTL_MS,
      ]);
    } catch (error) {
      throw new BusUnavailableError(error);
    }
    const [status, value] = reply as [number, number | string];
    if (status === 1) return { status: 'duplicate', id: String(value) };
    if (status === 2) return { status: 'rate-limited' };
    return { status: 'published', receivers: Number(value) };
  }

  async append(draft: MessageDraft, options: AppendOptions = {}): Promise<AppendOutcome> {
    const { cid, limit } = options;
    let reply: unknown;
    try {
      reply = await APPEND.run(this.pub, [
        this.key('seq', draft.room),
        this.key('log', draft.room),
        this.key('cid', `${draft.from.id}:${cid ?? ''}`),
        this.key('rate', limit?.bucket ?? ''),
        this.channel({ kind: 'room', room: draft.room }),
        encodeEnvelope(draft),
        this.options.historyLimit,
        cid === undefined ? '0' : '1',
        draft.id,
        CID_TTL_MS,
        limit ? '1' : '0',
        limit?.perSecond ?? 0,
        limit?.burst ?? 0,
      ]);
    } catch (error) {
      throw new BusUnavailableError(error);
    }
    const [status, first, second] = reply as [number, number | string, number];
    if (status === 1) return { status: 'duplicate', id: String(first), seq: second };
    if (status === 2) return { status: 'rate-limited' };
    return { status: 'stored', seq: Number(first) };
  }

  range(room: string, after: number, limit: number): Promise<StoredRange> {
    return this.readLog(room, after, limit, 'after');
  }

  latest(room: string, limit: number): Promise<StoredRange> {
    return this.readLog(room, 0, limit, 'latest');
  }

  async close(): Promise<void> {
    this.closing = true;
    this.channels.clear();
    await Promise.all([this.pub.quit(), this.sub.quit()].map((p) => p.catch(() => undefined)));
    this.pub.disconnect();
    this.sub.disconnect();
  }

  private async readLog(
    room: string,
    after: number,
    limit: number,
    mode: 'after' | 'latest',
  ): Promise<StoredRange> {
    let reply: unknown;
    try {
      reply = await RANGE.run(this.pub, [
        this.key('seq', room),
        this.key('log', room),
        after,
        limit,
        mode,
      ]);
    } catch (error) {
      throw new BusUnavailableError(error);
    }
    const [head, first, ...payloads] = reply as [number, number, ...string[]];
    const messages: MessageEnvelope[] = [];
    for (const payload of payloads) {
      const envelope = decodeEnvelope(payload);
      if (envelope?.type === 'message') messages.push(envelope);
      else this.options.logger.warn({ room }, 'dropped a malformed stored message');
    }
    return { messages, first: Number(first), head: Number(head) };
  }

  /** (Re)subscribes every wanted channel; only then is the node back in the conversation. */
  private async resubscribe(): Promise<void> {
    const channels = [...this.channels];
    try {
      for (let i = 0; i < channels.length; i += 1_000) {
        await this.sub.subscribe(...channels.slice(i, i + 1_000));
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
      await LuaScript.loadAll(this.pub);
      this.scriptsLoaded = true;
      this.maybeUp();
    } catch (error) {
      this.options.logger.debug({ err: String(error) }, 'loading scripts failed; will retry');
      setTimeout(() => {
        if (this.pub.status === 'ready' && !this.scriptsLoaded) void this.loadScripts();
      }, 500).unref();
    }
  }

  private maybeUp(): void {
    if (this.wasUp || !this.isUp()) return;
    this.wasUp = true;
    this.handler?.resumed();
  }

  private lost(reason: string): void {
    this.subscribed = this.subscribed && this.sub.status === 'ready';
    if (!this.wasUp || this.closing) return;
    this.wasUp = false;
    this.handler?.down(reason);
  }

  private receive(channel: string, payload: string): void {
    const topic = parseChannel(this.options.prefix, channel);
    const envelope = topic && decodeEnvelope(payload);
    if (!topic || !envelope) {
      this.options.logger.warn({ channel }, 'dropped a malformed envelope');
      return;
    }
    this.handler?.envelope(envelope, topic);
  }

  private channel(topic: Topic): string {
    return channelName(this.options.prefix, topic);
  }

  private key(kind: string, id: string): string {
    return `${this.options.prefix}:${kind}:${id}`;
  }
}
