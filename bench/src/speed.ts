import { nowMs } from './clock';

/**
 * A fixed piece of single-threaded work, timed: how fast this machine's cores are right now.
 * Shared virtual machines change speed with their neighbours (without showing it as steal
 * time), which moves every absolute number of a run; ratios within one run stay comparable.
 */
export function speedProbeMs(): number {
  const start = nowMs();
  let x = 0;
  for (let i = 0; i < 50_000_000; i++) x = (x + i * 7) % 1_000_003;
  const ms = nowMs() - start;
  return x < 0 ? Number.NaN : ms;
}
