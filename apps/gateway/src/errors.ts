import { chatError, type ChatError } from '@chat/protocol';
import { BrokerUnavailableError } from './broker/errors';
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

/** Maps any failure to what the client is told: coded, never a stack trace. */
export function toChatError(error: unknown, logger: Logger, context: object = {}): ChatError {
  if (error instanceof ClientError) return error.error;
  if (error instanceof BrokerUnavailableError) {
    logger.warn({ ...context, err: error.message }, 'request failed: broker unavailable');
    return chatError('UNAVAILABLE', BROKER_UNAVAILABLE);
  }
  logger.error({ ...context, err: error }, 'request failed unexpectedly');
  return chatError('INTERNAL');
}
