import { chatError, type ChatError } from '@chat/protocol';
import type { ChatSocket } from './socket';
import { takeToken, type Bucket } from '../broker/token-bucket';
import { clientAddress } from './client-address';

export interface ConnectionLimitOptions {
  /** Connections this node holds at most. @default 10_000 */
  maxConnections: number;
  /** New connections per second per client address. @default 20 */
  perSecond: number;
  /** Burst of new connections per client address. @default 100 */
  burst: number;
  /** Take the client address from X-Forwarded-For (behind a trusted balancer). @default false */
  trustProxy: boolean;
}

/** Buckets idle this long are forgotten, so scanning addresses cannot grow memory. */
const FORGET_AFTER_MS = 60_000;

/**
 * Refuses connection floods before any work is done for them: a token bucket per client address
 * and a cap on connections per node, answered with RATE_LIMITED / UNAVAILABLE (both retryable).
 */
export class ConnectionLimits {
  private readonly buckets = new Map<string, Bucket>();
  private lastSweep = Date.now();

  constructor(
    private readonly options: ConnectionLimitOptions,
    private readonly connected: () => number,
  ) {}

  /** Undefined when the connection may proceed. */
  check(socket: ChatSocket, now = Date.now()): ChatError | undefined {
    if (this.connected() >= this.options.maxConnections) {
      return chatError('UNAVAILABLE', 'this node is full; try another');
    }
    this.forgetIdle(now);
    const address = this.address(socket);
    const { allowed, bucket } = takeToken(
      this.buckets.get(address),
      now,
      this.options.perSecond,
      this.options.burst,
    );
    this.buckets.set(address, bucket);
    return allowed ? undefined : chatError('RATE_LIMITED', 'too many connections; slow down');
  }

  private address(socket: ChatSocket): string {
    return clientAddress(socket.handshake, this.options.trustProxy);
  }

  private forgetIdle(now: number): void {
    if (now - this.lastSweep < FORGET_AFTER_MS) return;
    this.lastSweep = now;
    for (const [address, bucket] of this.buckets) {
      if (now - bucket.at > FORGET_AFTER_MS) this.buckets.delete(address);
    }
  }
}
