/**
 * Rejected by every broker operation (bus or shared state) while the broker is unreachable or
 * too slow. Clients are told UNAVAILABLE (retryable); nothing else about the cause reaches them.
 */
export class BrokerUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`broker unavailable: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'BrokerUnavailableError';
  }
}
