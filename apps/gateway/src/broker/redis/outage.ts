import type { Logger } from '../../logger';

/** Reminders while Redis stays unreachable come at most this often. @default 10_000 */
const REMIND_EVERY_MS = 10_000;

/** `host:port` of a Redis URL, without user or password: safe for logs and /readyz. */
export function redisAddress(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || '6379'}`;
}

/**
 * When and why this node cannot reach Redis, for operators: a warning when an outage starts
 * (or the first connection fails), a reminder at most every REMIND_EVERY_MS while it lasts, and
 * one line when Redis is back. An outage starts at construction: a node that never connected
 * is down since it started.
 */
export class RedisOutage {
  private since: number | undefined = Date.now();
  private lastError = 'not connected yet';
  private lastLog: number | undefined;

  /**
   * @param where  the target, for operators (`host:port`, or the master and its sentinels)
   * @param what   the outage in words: behind Sentinel a lost connection means no writable
   *               master until a replica is promoted. @default 'redis unreachable'
   */
  constructor(
    private readonly where: string,
    private readonly logger: Logger,
    private readonly what = 'redis unreachable',
  ) {}

  /** A connection attempt failed (or a connection reported an error). */
  failed(error: string, now = Date.now()): void {
    this.lastError = error;
    if (this.since !== undefined) this.remind(now);
  }

  /** A working connection was lost: the outage starts now. */
  lost(reason: string, now = Date.now()): void {
    this.lastError = reason;
    this.since ??= now;
    this.remind(now);
  }

  up(now = Date.now()): void {
    if (this.since === undefined) return;
    this.logger.info({ redis: this.where, downMs: now - this.since }, 'redis connected');
    this.since = undefined;
    this.lastLog = undefined;
  }

  private remind(now: number): void {
    if (this.since === undefined) return;
    if (this.lastLog !== undefined && now - this.lastLog < REMIND_EVERY_MS) return;
    this.lastLog = now;
    this.logger.warn(
      { redis: this.where, since: new Date(this.since).toISOString(), err: this.lastError },
      this.what,
    );
  }

  /** Undefined while connected; else where, since when and the last error, in words. */
  describe(): string | undefined {
    if (this.since === undefined) return undefined;
    const since = new Date(this.since).toISOString();
    return `${this.what} since ${since} (${this.where}: ${this.lastError})`;
  }
}
