import type { RateLimit } from '../bus';
import type { LocalBudget } from '../local-budget';
import type { RedisBackend } from './redis-backend';
import { GIVE_BACK, TAKE } from './scripts/cluster';

/**
 * On a Redis Cluster a sender's buckets live on other shards than the room or conversation it
 * writes to, so its tokens are taken before the append, one bucket per call: each bucket in
 * turn, and when one refuses, the tokens already taken are given back (both or neither, as the
 * single-Redis append does in one step). A refusal teaches `budget` how long the sender is out.
 * Resolves true when every bucket gave a token.
 */
export async function takeTokens(
  redis: RedisBackend,
  limits: readonly RateLimit[],
  budget: LocalBudget,
): Promise<boolean> {
  const taken: RateLimit[] = [];
  for (const limit of limits) {
    const reply = await redis.run(TAKE, {
      keys: { bucket: redis.names.rateBucket(limit.bucket) },
      argv: { per_second: limit.perSecond, burst: limit.burst },
    });
    if (reply.taken) {
      taken.push(limit);
      continue;
    }
    budget.refused(limit, reply.tokens);
    await Promise.all(
      taken.map((given) =>
        redis.run(GIVE_BACK, {
          keys: { bucket: redis.names.rateBucket(given.bucket) },
          argv: { per_second: given.perSecond, burst: given.burst },
        }),
      ),
    );
    return false;
  }
  return true;
}
