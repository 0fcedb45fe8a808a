/**
 * Milliseconds (µs precision) on the machine-wide monotonic clock (CLOCK_MONOTONIC through
 * libuv). Unlike `Date.now()` it is the same clock in every process of this machine and never
 * jumps, so a timestamp written by a generator can be compared with one read by another.
 */
export function nowMs(): number {
  const [seconds, nanos] = process.hrtime();
  return seconds * 1e3 + nanos / 1e6;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** Sleeps until `at` on the {@link nowMs} clock. */
export function sleepUntil(at: number): Promise<void> {
  return sleep(at - nowMs());
}
