import { chatError, type ChatError } from '@chat/protocol';
import { takeToken, type Bucket } from '../broker/token-bucket';

export interface FloodGuardOptions {
  /** Refusals a session earns back per second. @default 20 */
  perSecond: number;
  /** Refusals a session may pile up before it is cut off. @default 100 */
  burst: number;
}

/**
 * Cuts off a client that keeps sending into refusals. A refused request is cheap now (the
 * budget is checked on the node, with no Redis round trip), but its Socket.IO event still costs
 * a decode, a dispatch and an ack on the node's one thread: a client that ignores RATE_LIMITED
 * and keeps 64 sends in flight takes that thread from everyone else. Each session gets a budget
 * of refusals; past it the session is told why and disconnected, and the per-address connection
 * limits bound how fast it can come back. A client that backs off on RATE_LIMITED (the CLI
 * sends one request at a time and waits) never comes near it.
 */
export class FloodGuard {
  private readonly refusals = new WeakMap<object, Bucket>();

  constructor(private readonly options: FloodGuardOptions) {}

  /** Counts a refusal of `session`; returns the error to end it with once it is over budget. */
  refused(session: object, now = performance.now()): ChatError | undefined {
    const { allowed, bucket } = takeToken(
      this.refusals.get(session),
      now,
      this.options.perSecond,
      this.options.burst,
    );
    this.refusals.set(session, bucket);
    if (allowed) return undefined;
    return chatError(
      'RATE_LIMITED',
      'too many refused requests: disconnected; wait for acks and back off on RATE_LIMITED',
    );
  }
}
