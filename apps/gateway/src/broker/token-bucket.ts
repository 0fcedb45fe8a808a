/** State of one token bucket: `tokens` left as of `at` (ms). */
export interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Takes one token if there is one. The Redis bus runs the same arithmetic in Lua, so a user's
 * budget is the same whichever bus or node serves them.
 */
export function takeToken(
  bucket: Bucket | undefined,
  now: number,
  perSecond: number,
  burst: number,
): { allowed: boolean; bucket: Bucket } {
  const previous = bucket ?? { tokens: burst, at: now };
  const elapsed = Math.max(0, now - previous.at) / 1000;
  const tokens = Math.min(burst, previous.tokens + elapsed * perSecond);
  if (tokens < 1) return { allowed: false, bucket: { tokens, at: now } };
  return { allowed: true, bucket: { tokens: tokens - 1, at: now } };
}
