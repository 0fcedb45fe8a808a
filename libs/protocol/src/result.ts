import { chatError, type ChatError } from './errors';

/** Outcome of validating untrusted input: the cleaned value, or the error to send back. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: ChatError };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T>(error: ChatError): Result<T> => ({ ok: false, error });
export const bad = <T>(message: string): Result<T> => fail(chatError('BAD_REQUEST', message));
