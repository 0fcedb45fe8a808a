export interface BackoffOptions {
  /** First delay, before jitter. @default 100 */
  initialMs?: number;
  /** Longest delay, before jitter. @default 2_000 */
  maxMs?: number;
  /** Source of randomness in [0, 1); injectable for tests. @default Math.random */
  random?: () => number;
}

/**
 * Exponential backoff with jitter: the nth delay is drawn from [base/2, base) where base is
 * `initialMs * 2^n` capped at `maxMs`. The jitter keeps a crowd of clients that lost the same
 * node from reconnecting to the next one in lock step.
 */
export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 100;
    this.maxMs = options.maxMs ?? 2_000;
    this.random = options.random ?? Math.random;
  }

  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.round(base / 2 + (base / 2) * this.random());
  }

  reset(): void {
    this.attempt = 0;
  }
}

/**
 * Resolves after `ms`, or at once when `signal` aborts (never rejects). The timer is kept
 * referenced on purpose: a client waiting to reconnect is still busy, and the process must not
 * exit under it.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
