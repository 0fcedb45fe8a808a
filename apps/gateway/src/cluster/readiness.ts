import { randomBytes } from 'node:crypto';
import type { Bus } from '../broker/bus';
import { ENVELOPE_VERSION } from '../broker/envelope';
import type { Logger } from '../logger';

export interface ReadinessReport {
  ready: boolean;
  node: string;
  checks: { bus: boolean; canary: boolean; draining: boolean };
  /** Milliseconds since this node last received its own canary through the bus. */
  canaryAgeMs: number | null;
}

/**
 * Ready means: not draining, the bus is connected, and a canary this node published to its own
 * topic came back through pub/sub recently. The canary catches a subscription that is silently
 * dead while the connection looks fine.
 */
export class Readiness {
  private timer: NodeJS.Timeout | undefined;
  private lastCanary: number | undefined;
  private subscribed = false;
  private draining = false;

  /** @param intervalMs canary period; ready needs one back within 3 periods. @default 1_000 */
  constructor(
    private readonly bus: Bus,
    private readonly nodeId: string,
    private readonly logger: Logger,
    private readonly intervalMs = 1_000,
  ) {}

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
  }

  report(): ReadinessReport {
    const canaryAgeMs = this.lastCanary === undefined ? null : Date.now() - this.lastCanary;
    const checks = {
      bus: this.bus.isUp(),
      canary: canaryAgeMs !== null && canaryAgeMs < 3 * this.intervalMs,
      draining: this.draining,
    };
    return {
      ready: checks.bus && checks.canary && !checks.draining,
      node: this.nodeId,
      checks,
      canaryAgeMs,
    };
  }

  close(): void {
    clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    try {
      if (!this.subscribed) {
        await this.bus.subscribe({ kind: 'node', nodeId: this.nodeId });
        this.subscribed = true;
      }
      await this.bus.publish(
        { kind: 'node', nodeId: this.nodeId },
        {
          v: ENVELOPE_VERSION,
          type: 'canary',
          origin: this.nodeId,
          nonce: randomBytes(4).toString('hex'),
        },
      );
    } catch (error) {
      this.logger.debug({ err: String(error) }, 'canary not sent');
    }
  }
}
