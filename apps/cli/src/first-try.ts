import type { Ack } from '@chat/protocol';

/** Refusals after which nothing was stored: the next attempt is a first attempt again. */
const NOTHING_STORED: ReadonlySet<string> = new Set(['UNAVAILABLE', 'RATE_LIMITED']);

/**
 * The broker generation (`welcome.generation`) in which one send or DM was first tried without
 * learning its outcome (see SendRequest.generation). Each retry carries it, so that after the
 * broker lost its records the gateway refuses the retry (RECORDS_LOST) rather than store it a
 * second time. An attempt answered with a refusal that stored nothing does not count.
 */
export class FirstTry {
  private generation: string | undefined;

  /** The field the next attempt carries: nothing on a first attempt. */
  field(): { generation?: string } {
    return this.generation === undefined ? {} : { generation: this.generation };
  }

  /** Runs one attempt, made while the client knew generation `known`. */
  async attempt<T>(known: string | undefined, emit: () => Promise<Ack<T>>): Promise<Ack<T>> {
    const before = this.generation;
    this.generation ??= known;
    // A lost attempt (no ack) throws past here: it may have been stored, the generation stays.
    const ack = await emit();
    if (!ack.ok && NOTHING_STORED.has(ack.error.code)) this.generation = before;
    return ack;
  }
}
