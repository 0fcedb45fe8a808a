import type { RateLimit } from '../bus';
import type { LocalBudget } from '../local-budget';
import type { RedisBackend } from './redis-backend';
import { GIVE_BACK, TAKE } from './scripts/cluster';

/**
 * On a Redis Cluster a sender's buckets live on other shards than the room or conversation it
 * writes to, so its tokens are taken before the append, one call per bucket, all at once; when
 * one refuses, the tokens the others gave are given back (both or neither, as the single-Redis
 * append does in one step). A refusal teaches `budget` how long the sender is out. Resolves
 * true when every bucket gave a token.
 */
export async function takeTokens(
  redis: RedisBackend,
  limits: readonly RateLimit[],
  budget: LocalBudget,
): Promise<boolean> {
  const bucket = (limit: RateLimit) => ({
    keys: { bucket: redis.names.rateBucket(limit.bucket) },
    argv: { per_second: limit.perSecond, burst: limit.burst },
  });
  const replies = await Promise.all(limits.map((limit) => redis.run(TAKE, bucket(limit))));
  if (replies.every((reply) => reply.taken)) return true;
  await Promise.all(
    limits.map((limit, i) => {
      const reply = replies[i];
      if (reply?.taken) return redis.run(GIVE_BACK, bucket(limit));
      if (reply) budget.refused(limit, reply.tokens);
      return undefined;
    }),
  );
  return false;
}
