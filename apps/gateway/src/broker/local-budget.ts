import type { RateLimit } from './bus';
import { takeToken, type Bucket } from './token-bucket';

/** How often idle buckets are looked for; there is no timer, a take does it. @default 10_000 */
const SWEEP_EVERY_MS = 10_000;

/**
 * This node's copy of cluster-wide token buckets, checked before a Redis round trip, so that a
 * sender the node already knows to be over its budget is refused for the price of a map look-up.
 *
 * Contract: the local bucket never holds fewer tokens than the cluster-wide one. It starts full,
 * spends a token for every request this node sends on (the cluster-wide bucket spends at least
 * those, plus other nodes'), and after a cluster-wide refusal takes over the cluster's count. So a
 * local refusal is always one the cluster would have given; a local "yes" still asks the cluster.
 */
export class LocalBudget {
  private readonly buckets = new Map<string, Bucket>();
  private lastSweep: number;

  constructor(private readonly now: () => number = Date.now) {
    this.lastSweep = now();
  }

  /** Takes a token from every bucket named, or from none; false means "refuse locally". */
  take(limits: readonly RateLimit[]): boolean {
    const now = this.now();
    this.sweep(now);
    const taken = limits.map((limit) => ({
      limit,
      ...takeToken(this.buckets.get(limit.bucket), now, limit.perSecond, limit.burst),
    }));
    const allowed = taken.every((t) => t.allowed);
    for (const t of taken) {
      // A refusal spends nothing: buckets that had a token give it back.
      const bucket = allowed || !t.allowed ? t.bucket : { tokens: t.bucket.tokens + 1, at: now };
      this.buckets.set(t.limit.bucket, bucket);
    }
    return allowed;
  }

  /** The cluster refused: its bucket holds `tokens` (fewer than 1) as of now. */
  refused(limit: RateLimit, tokens: number): void {
    this.buckets.set(limit.bucket, { tokens, at: this.now() });
  }

  /** Buckets tracked (for tests: scanning senders must not grow it without bound). */
  get size(): number {
    return this.buckets.size;
  }

  /**
   * Forgets buckets untouched for a while. Safe whatever they held: a forgotten bucket starts
   * full again, which only means the next request asks the cluster.
   */
  private sweep(now: number): void {
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    for (const [key, bucket] of this.buckets) {
      if (now - bucket.at > SWEEP_EVERY_MS) this.buckets.delete(key);
    }
  }
}
