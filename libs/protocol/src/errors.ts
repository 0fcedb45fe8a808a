/**
 * The small, closed set of errors a client can see, in acks, in `connect_error.data` and in
 * `chat:error` events. `retryable` tells a client whether sending the same thing again later
 * can succeed (a Redis outage, a rate limit) or never will (bad input).
 */
export const ERROR_CODES = [
  'BAD_REQUEST',
  'UNKNOWN_EVENT',
  'EMPTY_TEXT',
  'TEXT_TOO_LONG',
  'INVALID_NAME',
  'NAME_TAKEN',
  'INVALID_ROOM',
  'NOT_JOINED',
  'USER_NOT_FOUND',
  'RATE_LIMITED',
  'UNAUTHORIZED',
  'VERSION_MISMATCH',
  'UNAVAILABLE',
  'OUTCOME_UNKNOWN',
  'RECORDS_LOST',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ChatError {
  code: ErrorCode;
  message: string;
  retryable: boolean;
  /**
   * A hint on retryable errors: the earliest a retry can succeed, in ms. Optional (added in
   * protocol 1 compatibly): a client that ignores it just retries sooner and is refused again.
   */
  retryInMs?: number;
}

const RETRYABLE: ReadonlySet<ErrorCode> = new Set([
  'RATE_LIMITED',
  'UNAVAILABLE',
  'OUTCOME_UNKNOWN',
  'INTERNAL',
]);

const DEFAULT_MESSAGES: Record<ErrorCode, string> = {
  BAD_REQUEST: 'malformed request',
  UNKNOWN_EVENT: 'unknown event',
  EMPTY_TEXT: 'message text is empty',
  TEXT_TOO_LONG: 'message text is too long',
  INVALID_NAME: 'invalid name',
  NAME_TAKEN: 'name is taken',
  INVALID_ROOM: 'invalid room name',
  NOT_JOINED: 'not joined',
  USER_NOT_FOUND: 'no such user online',
  RATE_LIMITED: 'too many messages, slow down',
  UNAUTHORIZED: 'authentication failed',
  VERSION_MISMATCH: 'unsupported protocol version',
  UNAVAILABLE: 'service temporarily unavailable, retry',
  OUTCOME_UNKNOWN:
    'the cluster did not answer in time: this may have been stored; retry only with the same cid',
  RECORDS_LOST:
    'the broker lost its records since your first attempt: it may or may not have been stored; nothing was stored now',
  INTERNAL: 'internal error',
};

export function chatError(code: ErrorCode, message: string = DEFAULT_MESSAGES[code]): ChatError {
  return { code, message, retryable: RETRYABLE.has(code) };
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/** True for anything shaped like a ChatError (e.g. `connect_error.data` from a gateway). */
export function isChatError(value: unknown): value is ChatError {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return isErrorCode(v.code) && typeof v.message === 'string' && typeof v.retryable === 'boolean';
}
