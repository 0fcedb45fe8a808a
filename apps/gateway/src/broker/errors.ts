/**
 * Rejected by every broker operation (bus or shared state) while the broker is unreachable or
 * too slow. Clients are told UNAVAILABLE (retryable); nothing else about the cause reaches them.
 */
export class BrokerUnavailableError extends Error {
  /** The broker's own words (for Redis, its error reply, e.g. `OOM command not allowed ...`). */
  readonly reason: string;

  constructor(cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`broker unavailable: ${reason}`);
    this.name = 'BrokerUnavailableError';
    this.reason = reason;
  }
}
