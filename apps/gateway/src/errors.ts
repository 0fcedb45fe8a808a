import { chatError, type ChatError } from '@chat/protocol';
import { BrokerSettlingError, BrokerUnavailableError } from './broker/errors';
import type { Logger } from './logger';

/** An error meant for the client, with its code; anything else is logged and reported as INTERNAL. */
export class ClientError extends Error {
  constructor(readonly error: ChatError) {
    super(error.message);
    this.name = 'ClientError';
  }
}

export function clientError(...args: Parameters<typeof chatError>): ClientError {
  return new ClientError(chatError(...args));
}

/** What clients are told while the broker fails: where the fault is, and that retrying helps. */
export const BROKER_UNAVAILABLE =
  'this gateway cannot reach the message broker (Redis) right now; nothing was stored, retry';

/** What clients are told while the nodes restore what Redis lost (see BrokerFence). */
export const BROKER_SETTLING =
  'the message broker (Redis) lost or rolled back data moments ago and the cluster is ' +
  'restoring it; nothing was stored, retry';

/** Maps any failure to what the client is told: coded, never a stack trace. */
export function toChatError(error: unknown, logger: Logger, context: object = {}): ChatError {
  if (error instanceof ClientError) return error.error;
  if (error instanceof BrokerSettlingError) {
    logger.info({ ...context, why: error.why }, 'request refused: broker settling after a loss');
    return chatError('UNAVAILABLE', BROKER_SETTLING);
  }
  if (error instanceof BrokerUnavailableError) {
    logger.warn({ ...context, err: error.message }, 'request failed: broker unavailable');
    return chatError('UNAVAILABLE', BROKER_UNAVAILABLE);
  }
  logger.error({ ...context, err: error }, 'request failed unexpectedly');
  return chatError('INTERNAL');
}

/**
 * Rethrows the failure of a write (a send or a DM) as the client must hear it. A broker call
 * that may have run cannot be answered "UNAVAILABLE, nothing was stored": it becomes
 * OUTCOME_UNKNOWN, whose retry is safe only with the same `cid` (the broker deduplicates it).
 */
export function rethrowWriteFailure(
  error: unknown,
  cid: string | undefined,
  logger: Logger,
  context: object = {},
): never {
  if (!(error instanceof BrokerUnavailableError) || error.outcome !== 'unknown') throw error;
  logger.warn({ ...context, cid, err: error.message }, 'write outcome unknown: broker too slow');
  throw clientError(
    'OUTCOME_UNKNOWN',
    cid === undefined
      ? 'the cluster did not answer in time: this may have been stored; it had no cid, so a retry may store it twice'
      : `the cluster did not answer in time: this may have been stored; retry only with the same cid ('${cid}')`,
  );
}
