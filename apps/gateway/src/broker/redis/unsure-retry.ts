import type { RedisBackend } from './redis-backend';

/** What a retry from an older broker generation is answered (see BrokerFence.unsure). */
export type UnsureRetryAnswer =
  { status: 'duplicate'; id: string; seq: number } | { status: 'unsure' };

/**
 * Answers a retry whose first attempt was in an older broker generation: `duplicate` when its
 * `cid` record survived (in Redis, or `held`: this node's own copy, see SentCids), else
 * `unsure`. It only reads: such a retry is never stored, because after the loss a missing
 * record no longer shows that the first attempt was not stored.
 */
export async function answerUnsureRetry(
  redis: RedisBackend,
  cidKey: string,
  held?: string,
): Promise<UnsureRetryAnswer> {
  const record = held ?? (await redis.call((client) => client.get(cidKey)));
  const [id, seq] = (record ?? '').split(' ');
  const position = Number(seq);
  if (id === undefined || id === '' || !Number.isSafeInteger(position)) return { status: 'unsure' };
  return { status: 'duplicate', id, seq: position };
}
