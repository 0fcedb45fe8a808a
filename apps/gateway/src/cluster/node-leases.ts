import type { UserRef } from '@chat/protocol';
import { type GatewayContext, leftTemplate } from '../context';
import { reassertOwnership } from './ownership';

/** Interval between a node's lease rounds: a quarter of the lease, so a live node never lapses. */
export function leaseRoundMs(nodeTtlMs: number): number {
  return Math.max(100, Math.floor(nodeTtlMs / 4));
}

/**
 * How long the settle window stays open after a loss (see BrokerFence): one round, in which
 * every live node checks in (each one that finds the loss extends the window for its own
 * repair), and a quarter round more for a round that runs late.
 */
export function settleWindowMs(nodeTtlMs: number): number {
  const round = leaseRoundMs(nodeTtlMs);
  return round + Math.floor(round / 4);
}

export interface NodeLeaseHooks {
  /** Called each round while the bus is up (retries work that failed during an outage). */
  onRound(): Promise<void>;
  /** True for a session key whose connection dropped and is waiting out its grace period. */
  inGrace(key: string): boolean;
}

/**
 * Keeps this node's part of the cluster state true: renews its lease and its users' names,
 * reaps nodes whose lease lapsed (announcing their users as left), and re-asserts what it owns
 * (see reassertOwnership) when the broker lost or rolled back its data. One timer, unref'd;
 * `close()` stops it.
 *
 * A reset is noticed on the next round (every `intervalMs`) by the broker's identity: the
 * cluster's epoch changed (a new, empty Redis), or this node's mark is not what it last wrote
 * (data lost or rolled back, e.g. FLUSHALL or a restart from an older snapshot), or the broker
 * says it may have lost data its marks cannot show (a new Sentinel master: `suspected`); also
 * when the node's lease had lapsed, and after every reconnect (a restart may have lost anything).
 */
export class NodeLeases {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private lastRenewal = 0;
  /** The cluster epoch seen at the last check-in (undefined before the first). */
  private epoch: string | undefined;
  /** What this node last wrote as its mark. */
  private mark: string | undefined;
  private marks = 0;
  /** Why the next round re-asserts (kept until a re-assertion succeeds). */
  private pending: string | undefined;
  /** The broker lost or rolled back data: sweep its stale records of our sessions too. */
  private sweep = false;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly hooks: NodeLeaseHooks,
  ) {
    ctx.state.onBrokerForgot(() => void this.brokerForgot());
  }

  /** Interval between rounds: a quarter of the lease, so a live node never lapses. */
  get intervalMs(): number {
    return leaseRoundMs(this.ctx.config.nodeTtlMs);
  }

  async start(): Promise<void> {
    await this.round();
    this.timer = setInterval(() => void this.round(), this.intervalMs);
    this.timer.unref();
  }

  /** The broker is reachable again after an outage: re-assert what we own, now. */
  brokerReturned(): Promise<void> {
    this.pending ??= 'reconnected';
    return this.round();
  }

  /** A write found this node's mark gone (see BrokerFence): check in now, not next round. */
  brokerForgot(): Promise<void> {
    return this.round();
  }

  /** How long the settle window stays open after a loss (see settleWindowMs). */
  get settleMs(): number {
    return settleWindowMs(this.ctx.config.nodeTtlMs);
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One pass; never throws (a failed pass is retried by the next). */
  async round(): Promise<void> {
    const { ctx } = this;
    if (this.running || !ctx.bus.isUp()) return;
    this.running = true;
    try {
      // The first round finds no lease of ours: that is a start, not a lapse.
      const first = this.epoch === undefined;
      const reset = await this.checkIn();
      // Every round, not only after a loss: a node started since has only the broker's copy.
      const { resumeTokens } = ctx;
      const keepMs = ctx.config.resumeTtlMs + ctx.config.nodeTtlMs;
      resumeTokens.learn(await ctx.state.shareResumeKeys(resumeTokens.shared(), keepMs));
      const lapsed = await ctx.state.heartbeat(ctx.nodeId, ctx.config.nodeTtlMs);
      const reason = reset ?? (lapsed && !first ? 'lease had lapsed' : undefined);
      if (reason !== undefined) this.pending = reason;
      if (reset !== undefined) this.sweep = true;
      if (this.pending !== undefined) {
        const sessions = await reassertOwnership(ctx, {
          inGrace: (key) => this.hooks.inGrace(key),
          rolledBack: this.sweep,
        });
        this.sweep = false;
        const details = { reason: this.pending, sessions };
        if (this.pending === 'reconnected') ctx.logger.info(details, 're-asserted our sessions');
        else ctx.logger.warn(details, 'broker lost data; re-asserted our sessions');
      }
      this.pending = undefined;
      if (Date.now() - this.lastRenewal >= ctx.config.nameTtlMs / 3) {
        await ctx.state.renewNames(ctx.registry.users(), ctx.config.nameTtlMs);
        this.lastRenewal = Date.now();
      }
      await this.reap();
      await this.hooks.onRound();
    } catch (error) {
      ctx.logger.warn({ err: String(error) }, 'presence round failed; retrying next round');
    } finally {
      this.running = false;
    }
  }

  private async reap(): Promise<void> {
    const { ctx } = this;
    for (const dead of await ctx.state.expiredNodes()) {
      if (dead === ctx.nodeId) continue;
      const leftFor = (user: UserRef) => leftTemplate(ctx.nodeId, user, 'node-failure');
      // A dead node's clients may not know yet: their names stay theirs for a grace period.
      const closed = await ctx.state.reapNode(dead, ctx.nodeId, leftFor, ctx.config.leaveGraceMs);
      if (closed !== undefined) ctx.logger.warn({ dead, sessions: closed }, 'reaped a dead node');
    }
  }

  /** Undefined while the broker is the one we knew; else what shows it lost or rolled back data. */
  private async checkIn(): Promise<string | undefined> {
    const { ctx } = this;
    const mark = `${ctx.nodeId}:${++this.marks}`;
    const ttlMs = Math.max(60_000, 10 * ctx.config.nodeTtlMs);
    const { epoch, mark: expected } = this;
    const settle = { expected: expected ?? '', settleMs: this.settleMs };
    const found = await ctx.state.checkIn(ctx.nodeId, mark, ttlMs, settle);
    this.epoch = found.epoch;
    this.mark = mark;
    if (epoch === undefined) return undefined;
    if (found.epoch !== epoch) return `broker epoch changed (${epoch} -> ${found.epoch})`;
    if (found.previousMark !== expected) return "broker lost or rolled back this node's data";
    return found.suspected;
  }
}
