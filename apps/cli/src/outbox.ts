import { chatError, type ChatError } from '@chat/protocol';
import { Backoff, sleep, type BackoffOptions } from './backoff';

/** How one attempt at a job went. */
export type Attempt =
  /** Acknowledged with success; the job has settled itself. */
  | { kind: 'done' }
  /** Acknowledged with an error. Retryable errors are retried, the others end the job. */
  | { kind: 'refused'; error: ChatError }
  /** No ack: the connection dropped, or the ack timed out. The gateway may or may not have it. */
  | { kind: 'lost'; reason: string; disconnected: boolean };

/**
 * One request to a gateway, e.g. a `send`. `L` is the link it goes over (a connected socket);
 * the outbox never looks inside it.
 *
 * Contract: every job is safe to attempt again after a lost attempt, because the gateway
 * deduplicates it (`send` and `dm` carry a `cid`) or it changes nothing twice (`join`, `who`,
 * `rooms`). A request that could not be repeated safely does not belong in the outbox.
 */
export interface Job<L> {
  attempt(link: L): Promise<Attempt>;
  /** Called at most once, when the outbox gives the job up; never after `done`. */
  fail(error: ChatError): void;
}

export interface OutboxOptions {
  /** Delays between retries of the same job while connected. @default Backoff defaults */
  backoff?: BackoffOptions;
  /** Give a job up after it has been refused or timed out for this long. @default 60_000 */
  retryForMs?: number;
  /** @default Date.now */
  now?: () => number;
}

/**
 * The ordered queue of everything the user asked for, sent one job at a time (a window of 1).
 *
 * Contract: jobs reach the gateway in the order they were pushed; job N+1 is not attempted
 * until job N has settled. A job whose connection drops is attempted again over the next link
 * (same payload, so the same `cid`), which makes sends exactly-once across fail-over given the
 * gateway's `cid` deduplication. A retryable refusal (RATE_LIMITED, UNAVAILABLE, ...) or an
 * ack timeout is retried after a backoff without letting later jobs overtake it.
 */
export class Outbox<L> {
  private readonly queue: Job<L>[] = [];
  private link: L | undefined;
  private pumping = false;
  private closed = false;
  private readonly backoff: Backoff;
  private readonly retryForMs: number;
  private readonly now: () => number;
  private readonly stop = new AbortController();
  private idleWaiters: (() => void)[] = [];
  /** When the head job first failed in a way that is being retried. */
  private failingSince: number | undefined;

  constructor(options: OutboxOptions = {}) {
    this.backoff = new Backoff(options.backoff);
    this.retryForMs = options.retryForMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /** Number of jobs not yet settled, the one in flight included. */
  get size(): number {
    return this.queue.length;
  }

  push(job: Job<L>): void {
    if (this.closed) return;
    this.queue.push(job);
    void this.pump();
  }

  /** A usable link: start (or resume) sending over it. */
  online(link: L): void {
    this.link = link;
    void this.pump();
  }

  /** No link: keep everything queued until the next `online`. */
  offline(): void {
    this.link = undefined;
  }

  /** Resolves when every pushed job has settled. */
  idle(): Promise<void> {
    if (this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops for good. Jobs still queued are dropped without settling: the session is over (the
   * user left, or no gateway can be reached) and that is reported once, by whoever closed it.
   * Later pushes are dropped the same way.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stop.abort();
    this.queue.splice(0);
    this.settled();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        const job = this.queue[0];
        const link = this.link;
        if (this.closed || job === undefined || link === undefined) return;
        const result = await job.attempt(link);
        if (this.closed) return;
        const next = this.verdict(result);
        if (next !== 'retry') {
          this.queue.shift();
          this.failingSince = undefined;
          this.backoff.reset();
          if (next !== 'done') job.fail(next);
          this.settled();
        } else if (this.link === link) {
          await sleep(this.backoff.next(), this.stop.signal);
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  /** What to do after an attempt: finished, retry it, or fail it with this error. */
  private verdict(result: Attempt): 'done' | 'retry' | ChatError {
    if (result.kind === 'done') return 'done';
    if (result.kind === 'refused' && !result.error.retryable) return result.error;
    // A dropped connection is the client's fail-over to handle; only time spent being refused
    // or timing out against a live gateway counts towards giving up.
    if (result.kind === 'lost' && result.disconnected) return 'retry';
    const now = this.now();
    this.failingSince ??= now;
    if (now - this.failingSince < this.retryForMs) return 'retry';
    return result.kind === 'refused'
      ? result.error
      : chatError('UNAVAILABLE', `no confirmation from the gateway (${result.reason})`);
  }

  private settled(): void {
    if (this.queue.length > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
