import type { SystemName } from './cluster';
import { nowMs } from './clock';
import { say } from './out';
import { Session, type BenchEnv, type Layout } from './session';
import type { StepResult, Timing } from './step';
import {
  measure,
  niceRate,
  sweep,
  type NoisePolicy,
  type SweepOptions,
  type SweepResult,
} from './sweep';

export interface ScenarioSettings {
  timing: Timing;
  noise: NoisePolicy;
  /** Monotonic ms by which the scenario must be done. */
  deadline: number;
}

async function openAll(
  systems: SystemName[],
  scenario: string,
  layout: Layout,
  timing: Timing,
  env: BenchEnv,
): Promise<Session[]> {
  const sessions: Session[] = [];
  try {
    for (const system of systems)
      sessions.push(await Session.open(system, scenario, layout, timing, env));
  } catch (error) {
    await closeAll(sessions);
    throw error;
  }
  return sessions;
}

async function closeAll(sessions: Session[]): Promise<void> {
  for (const session of sessions) await session.close();
}

function median(values: number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] ?? Number.NaN)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Steps of every system at one rate, alternating, `reps` rounds; medians per system. */
export interface EqualLoad {
  rate: number;
  steps: StepResult[];
  median: Partial<
    Record<
      SystemName,
      {
        p50: number;
        p99: number;
        p999: number;
        cpuUsPerDelivery: number;
        deliveriesPerCpuSec: number;
        pass: boolean;
      }
    >
  >;
}

async function equalLoad(
  sessions: Session[],
  rate: number,
  reps: number,
  settings: ScenarioSettings,
  stepCostMs: number,
): Promise<EqualLoad> {
  const steps: StepResult[] = [];
  for (let rep = 0; rep < reps; rep++) {
    if (rep > 0 && nowMs() + sessions.length * stepCostMs > settings.deadline) break;
    const noise = { ...settings.noise, until: settings.deadline - sessions.length * stepCostMs };
    for (const session of sessions) steps.push(await measure(session, rate, noise));
  }
  const result: EqualLoad = { rate, steps, median: {} };
  for (const session of sessions) {
    const mine = steps.filter((s) => s.system === session.system);
    result.median[session.system] = {
      p50: median(mine.map((s) => s.latency.p50)),
      p99: median(mine.map((s) => s.latency.p99)),
      p999: median(mine.map((s) => s.latency.p999)),
      cpuUsPerDelivery: median(mine.map((s) => s.cpuUsPerDelivery)),
      deliveriesPerCpuSec: median(mine.map((s) => s.deliveriesPerCpuSec)),
      pass: mine.every((s) => s.pass),
    };
  }
  return result;
}

export interface SweepScenario {
  name: 's1' | 's2';
  layout: Layout;
  sweeps: SweepResult[];
  equalLoad: EqualLoad | undefined;
}

/**
 * S1 (rooms of 50 over 3 nodes) and S2 (one large room): each system's saturation, then all of
 * them at one equal load (half the adapter's saturation) for latency and CPU side by side.
 */
export async function sweepScenario(
  name: 's1' | 's2',
  systems: SystemName[],
  layout: Layout,
  env: BenchEnv,
  settings: ScenarioSettings,
  sweepOptions: Omit<SweepOptions, 'deadline' | 'stepCostMs' | 'noise'>,
  equalReps: number,
): Promise<SweepScenario> {
  say(
    `${name}: ${layout.rooms} room(s) of ${layout.roomSize}, ${layout.nodes} node(s), placement ${layout.placement}`,
  );
  const { timing } = settings;
  // A step, the drain after it, and a typical wait for a quiet machine.
  const stepCostMs = 300 + timing.warmupMs + timing.measureMs + 1_200 + 1_000;
  const sessions = await openAll(systems, name, layout, timing, env);
  try {
    // Leave time for the equal-load round.
    const reserve = equalReps > 0 ? systems.length * stepCostMs : 0;
    const sweeps = await sweep(sessions, {
      ...sweepOptions,
      deadline: settings.deadline - reserve,
      stepCostMs,
      noise: settings.noise,
    });
    for (const s of sweeps) say(`  ${s.system}: saturation ${s.saturation} msg/s`);
    let equal: EqualLoad | undefined;
    if (equalReps > 0) {
      const reference = sweeps.find((s) => s.system === 'adapter') ?? sweeps[0];
      const rate = niceRate(Math.max(sweepOptions.startRate / 2, (reference?.saturation ?? 0) / 2));
      say(`${name}: equal load ${rate} msg/s (half of ${reference?.system ?? '?'}'s saturation)`);
      equal = await equalLoad(sessions, rate, equalReps, settings, stepCostMs);
    }
    return { name, layout, sweeps, equalLoad: equal };
  } finally {
    await closeAll(sessions);
  }
}
