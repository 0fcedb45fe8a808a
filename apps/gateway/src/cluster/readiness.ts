import { randomBytes } from 'node:crypto';
import type { Bus } from '../broker/bus';
import { ENVELOPE_VERSION } from '../broker/envelope';
import { BrokerUnavailableError } from '../broker/errors';
import type { Logger } from '../logger';

/** Redis error replies start with an upper-case code: `OOM ...`, `READONLY ...`, `MISCONF ...`. */
const REDIS_ERROR_REPLY = /^[A-Z]{2,}\b/;

export interface ReadinessChecks {
  /** The broker is connected and subscribed. */
  bus: boolean;
  /** The node's own canary came back through pub/sub within 3 periods. */
  canary: boolean;
  /** The broker accepted a write within 3 periods (not out of memory, read-only, ...). */
  writable: boolean;
  /** The node has a free connection slot. */
  capacity: boolean;
  draining: boolean;
}

export interface ReadinessReport {
  ready: boolean;
  node: string;
  checks: ReadinessChecks;
  /** Why the node is not ready, in words (the first failing check); absent when ready. */
  reason?: string;
  /** Milliseconds since this node last received its own canary through the bus. */
  canaryAgeMs: number | null;
}

export interface ReadinessOptions {
  bus: Bus;
  nodeId: string;
  logger: Logger;
  /** True while the node holds as many connections as it may. */
  isFull: () => boolean;
  /** Canary and write-probe period; each must succeed within 3 periods. @default 1_000 */
  intervalMs?: number;
}

/**
 * Ready means: not draining, a free connection slot, the bus connected, a canary this node
 * published to its own topic came back through pub/sub recently (catching a subscription that
 * is silently dead), and the broker accepted a write recently (PUBLISH still works on a Redis
 * that refuses every write: out of memory, READONLY, MISCONF). Every change of the reason is
 * logged once, not every period.
 */
export class Readiness {
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private lastCanary: number | undefined;
  private lastWrite: number | undefined;
  private writeRefusal: string | undefined;
  private subscribed = false;
  private draining = false;
  /** The reason last logged ('' for ready); undefined before the first round. */
  private logged: string | undefined;

  constructor(private readonly options: ReadinessOptions) {
    this.intervalMs = options.intervalMs ?? 1_000;
  }

  start(): void {
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  /** Sends a canary now (the bus just came up) instead of at the next period. */
  nudge(): void {
    void this.tick();
  }

  /** The bus delivered our canary. */
  received(): void {
    this.lastCanary = Date.now();
  }

  drain(): void {
    this.draining = true;
    this.observe();
  }

  report(now = Date.now()): ReadinessReport {
    const { bus, isFull } = this.options;
    const canaryAgeMs = this.lastCanary === undefined ? null : now - this.lastCanary;
    const recent = (at: number | undefined) => at !== undefined && now - at < 3 * this.intervalMs;
    const checks: ReadinessChecks = {
      bus: bus.isUp(),
      canary: recent(this.lastCanary),
      writable: this.writeRefusal === undefined && recent(this.lastWrite),
      capacity: !isFull(),
      draining: this.draining,
    };
    const reason = this.reason(checks, canaryAgeMs);
    return {
      ready: reason === undefined,
      node: this.options.nodeId,
      checks,
      ...(reason === undefined ? {} : { reason }),
      canaryAgeMs,
    };
  }

  close(): void {
    clearInterval(this.timer);
  }

  private reason(checks: ReadinessChecks, canaryAgeMs: number | null): string | undefined {
    if (checks.draining) return 'draining';
    if (!checks.bus) return this.options.bus.outage() ?? 'broker unreachable';
    if (this.options.bus.starting()) {
      return 'just started: waiting a settle window before sends (a loss of Redis data may predate us)';
    }
    if (this.writeRefusal !== undefined) return `redis refuses writes: ${this.writeRefusal}`;
    if (!checks.capacity) return 'full';
    if (!checks.writable) return 'no write acknowledged by the broker yet';
    if (!checks.canary) {
      return canaryAgeMs === null ? 'no canary yet' : `canary lost (${canaryAgeMs} ms ago)`;
    }
    return undefined;
  }

  /** Logs the readiness reason when its kind changes (the text may carry changing details). */
  private observe(): void {
    const reason = this.report().reason ?? '';
    const kind = reason.split(/[:(]/)[0]?.trim() ?? '';
    const writeKind = this.writeRefusal?.split(' ')[0] ?? '';
    const key = `${kind} ${writeKind}`;
    if (key === this.logged) return;
    const first = this.logged === undefined;
    this.logged = key;
    if (reason === '') this.options.logger.info('ready');
    else if (!first || reason !== 'no canary yet') {
      this.options.logger.warn({ reason }, 'not ready');
    }
  }

  private async tick(): Promise<void> {
    const { bus, nodeId, logger } = this.options;
    try {
      if (!this.subscribed) {
        await bus.subscribe({ kind: 'node', nodeId });
        this.subscribed = true;
      }
      const nonce = randomBytes(4).toString('hex');
      await bus.publish(
        { kind: 'node', nodeId },
        { v: ENVELOPE_VERSION, type: 'canary', origin: nodeId, nonce },
      );
    } catch (error) {
      logger.debug({ err: String(error) }, 'canary not sent');
    }
    try {
      await bus.probeWrite(nodeId);
      this.lastWrite = Date.now();
      this.writeRefusal = undefined;
    } catch (error) {
      // A Redis error reply (OOM, READONLY, MISCONF, BUSY, ...) is a refusal by a reachable
      // broker; anything else (a timeout, a lost connection) shows up as `bus` or goes stale.
      const reason = error instanceof BrokerUnavailableError ? error.reason : '';
      this.writeRefusal = REDIS_ERROR_REPLY.test(reason) ? reason : undefined;
      logger.debug({ err: String(error) }, 'write probe failed');
    }
    this.observe();
  }
}
