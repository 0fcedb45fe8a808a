import type { UserRef } from '@chat/protocol';
import { type GatewayContext, joinedEnvelope, leftTemplate, sessionRef } from '../context';

export interface NodeLeaseHooks {
  /** Called each round while the bus is up (retries work that failed during an outage). */
  onRound(): Promise<void>;
}

/**
 * Keeps this node's part of the cluster state true: renews its lease and its users' names,
 * reaps nodes whose lease lapsed (announcing their users as left), and restores its own
 * sessions if Redis lost them. One timer, unref'd; `close()` stops it.
 */
export class NodeLeases {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private lastRenewal = 0;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly hooks: NodeLeaseHooks,
  ) {}

  /** Interval between rounds: a quarter of the lease, so a live node never lapses. */
  get intervalMs(): number {
    return Math.max(100, Math.floor(this.ctx.config.nodeTtlMs / 4));
  }

  async start(): Promise<void> {
    await this.round();
    this.timer = setInterval(() => void this.round(), this.intervalMs);
    this.timer.unref();
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
      const lapsed = await ctx.state.heartbeat(ctx.nodeId, ctx.config.nodeTtlMs);
      if (lapsed && ctx.registry.size > 0) await this.restore();
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
      const closed = await ctx.state.reapNode(dead, ctx.nodeId, leftFor);
      if (closed !== undefined) ctx.logger.warn({ dead, sessions: closed }, 'reaped a dead node');
    }
  }

  /** Our lease had lapsed (Redis lost its data, or we stalled and were reaped): re-register. */
  private async restore(): Promise<void> {
    const { ctx } = this;
    ctx.logger.warn({ sessions: ctx.registry.size }, 'lease had lapsed; restoring sessions');
    for (const session of ctx.registry.all()) {
      const ref = sessionRef(ctx, session);
      await ctx.state.openSession(ref, ctx.config.nameTtlMs);
      if (session.room !== undefined) {
        const joined = joinedEnvelope(ctx, session.room, session.user);
        await ctx.state.enterRoom(
          ref,
          joined,
          leftTemplate(ctx.nodeId, session.user, 'moved'),
          false,
        );
      }
    }
  }
}
