import { nowMs, sleep } from './clock';
import { sampleMachine, sampleProc } from './proc-stats';
import { runningPids } from './procs';

/**
 * Cores the machine spent, over `windowMs`, on processes that are not this run's (other users'
 * builds and tests: noise for a benchmark on 2 shared cores).
 */
export async function otherLoad(windowMs: number): Promise<number> {
  const pids = runningPids();
  const ours = () => {
    const usage = process.cpuUsage();
    let ms = (usage.user + usage.system) / 1000;
    for (const pid of pids) ms += sampleProc(pid)?.cpuMs ?? 0;
    return ms;
  };
  const m0 = sampleMachine();
  const o0 = ours();
  const t0 = nowMs();
  await sleep(windowMs);
  const m1 = sampleMachine();
  const o1 = ours();
  return Math.max(0, (m1.processMs - m0.processMs - (o1 - o0)) / (nowMs() - t0));
}

/**
 * Waits (at most `maxWaitMs`) until other processes use less than `cores` of the machine.
 * Resolves to the last measured load, so the caller can record how noisy it was.
 */
export async function waitForQuiet(cores: number, maxWaitMs: number): Promise<number> {
  const deadline = nowMs() + maxWaitMs;
  let load = await otherLoad(250);
  while (load > cores && nowMs() < deadline) load = await otherLoad(500);
  return load;
}
