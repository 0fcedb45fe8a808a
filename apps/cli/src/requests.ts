import { isChatError, type Ack, type ChatError } from '@chat/protocol';
import type { Job } from './outbox';

/** The settled result of a request, as the command that made it sees it. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: ChatError };

/** One emit of a request over a link, resolving with the gateway's ack or rejecting. */
export type Call<T, L> = (link: L, timeoutMs: number) => Promise<Ack<T>>;

/** What the outbox needs from a link to tell a dropped connection from a slow gateway. */
export interface Link {
  readonly connected: boolean;
}

/**
 * Wraps one request as an outbox job that settles `settle` exactly once: with the ack's value,
 * with the gateway's error, or with the error the outbox gives up with.
 */
export function requestJob<T, L extends Link>(
  call: Call<T, L>,
  timeoutMs: number,
  settle: (outcome: Outcome<T>) => void,
): Job<L> {
  return {
    async attempt(link) {
      if (!link.connected) return { kind: 'lost', reason: 'not connected', disconnected: true };
      let ack: unknown;
      try {
        ack = await call(link, timeoutMs);
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        return { kind: 'lost', reason, disconnected: !link.connected };
      }
      if (!isAck<T>(ack)) return { kind: 'refused', error: MALFORMED };
      if (!ack.ok) return { kind: 'refused', error: ack.error };
      settle({ ok: true, value: ack });
      return { kind: 'done' };
    },
    fail(error) {
      settle({ ok: false, error });
    },
  };
}

/** A gateway bug, not something a retry would fix. */
const MALFORMED: ChatError = {
  code: 'INTERNAL',
  message: 'malformed reply from the gateway',
  retryable: false,
};

/** Acks come from the network: check the shape the rest of the client relies on. */
function isAck<T>(value: unknown): value is Ack<T> {
  if (typeof value !== 'object' || value === null || !('ok' in value)) return false;
  if (value.ok === true) return true;
  return value.ok === false && 'error' in value && isChatError(value.error);
}
