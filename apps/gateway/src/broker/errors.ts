/**
 * What a failed broker call may have done. `not-run`: it never reached the broker, or the broker
 * answered with an error, so nothing changed. `unknown`: it was written and then timed out or
 * its connection dropped before the answer, so the broker may still have run it (a Redis paused
 * by `DEBUG SLEEP` runs what it received when it wakes).
 */
export type BrokerOutcome = 'not-run' | 'unknown';

/**
 * Rejected by every broker operation (bus or shared state) while the broker is unreachable or
 * too slow. Clients are told UNAVAILABLE (retryable), or OUTCOME_UNKNOWN when a write's
 * `outcome` is unknown; nothing else about the cause reaches them.
 */
export class BrokerUnavailableError extends Error {
  /** The broker's own words (for Redis, its error reply, e.g. `OOM command not allowed ...`). */
  readonly reason: string;

  constructor(
    cause: unknown,
    /** @default 'unknown': only a failure known to precede the write may claim `not-run`. */
    readonly outcome: BrokerOutcome = 'unknown',
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`broker unavailable: ${reason}`);
    this.name = 'BrokerUnavailableError';
    this.reason = reason;
  }
}

/**
 * A write refused by the broker fence (see BrokerFence), nothing stored: Redis lost or rolled
 * back data moments ago and the nodes are restoring what they own. Retryable like any outage.
 */
export class BrokerSettlingError extends BrokerUnavailableError {
  constructor(readonly why: 'forgot' | 'settling') {
    super(
      why === 'forgot'
        ? 'Redis lost or rolled back data since this node last checked in'
        : 'Redis lost or rolled back data; the nodes are restoring it',
      'not-run',
    );
    this.name = 'BrokerSettlingError';
  }
}
