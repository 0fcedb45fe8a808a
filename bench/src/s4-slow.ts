import type { SystemName } from './cluster';
import { nowMs } from './clock';
import { say } from './out';
import type { ScenarioSettings } from './scenarios';
import { Session, type BenchEnv, type Layout } from './session';
import type { StepResult, Timing } from './step';
import { measure } from './sweep';

export interface S4Row {
  system: SystemName;
  control: StepResult;
  slow: StepResult;
  /** Others' p99 with slow consumers / without. */
  p99Ratio: number;
  /** RSS growth of the busiest server during the control and the slow step, MB. */
  controlRssGrowthMb: number;
  rssGrowthMb: number;
  /** Slow clients the servers had disconnected by the end of the slow step. */
  slowDropped: number;
  pass: boolean;
}

const serverGrowth = (step: StepResult) =>
  Math.max(...step.sut.filter((u) => !u.role.startsWith('redis')).map((u) => u.rssGrowthMb));

/**
 * S4: the S1 layout with 1% of the clients (one in each of two rooms) that stop reading. The
 * others' p99 must stay within 1.2x of a control step without slow consumers, and the servers'
 * memory must stay bounded. Texts are 2000 characters (the protocol's limit) here, so that the
 * slow clients' backlog outgrows the kernel's socket buffers within the step.
 */
export async function scenarioS4(
  systems: SystemName[],
  env: BenchEnv,
  settings: ScenarioSettings,
  rate: number,
  slowTiming: Timing,
): Promise<S4Row[]> {
  const layout: Layout = {
    rooms: 4,
    roomSize: 50,
    nodes: 3,
    placement: 'spread',
    slowPerRoom: [1, 1, 0, 0],
  };
  const textBytes = 2000;
  say(`s4: S1 layout, 2 of 200 clients stop reading, ${rate} msg/s, ${textBytes}-byte texts`);
  const rows: S4Row[] = [];
  for (const system of systems) {
    if (nowMs() > settings.deadline) break;
    const session = await Session.open(system, 's4', layout, settings.timing, {
      ...env,
      textBytes,
    });
    try {
      // Warm-up (JIT, buffers), not recorded.
      await session.step(rate, { timing: { ...settings.timing, measureMs: 2_000 } });
      const control = await measure(session, rate, settings.noise);
      // No retry here: the slow clients stop reading for good when this step starts.
      const slow = await measure(
        session,
        rate,
        { ...settings.noise, retries: 0 },
        { pauseSlow: true, timing: slowTiming },
      );
      const { dropped: slowDropped } = await session.resumeSlow();
      const p99Ratio = slow.latency.p99 / control.latency.p99;
      const rssGrowthMb = serverGrowth(slow);
      const controlRssGrowthMb = serverGrowth(control);
      const pass = p99Ratio <= 1.2 && slow.lost === 0;
      rows.push({
        system,
        control,
        slow,
        p99Ratio,
        controlRssGrowthMb,
        rssGrowthMb,
        slowDropped,
        pass,
      });
      say(
        `    others' p99 x${p99Ratio.toFixed(2)} with slow consumers; busiest server RSS ` +
          `+${rssGrowthMb.toFixed(1)} MB (control step +${controlRssGrowthMb.toFixed(1)} MB); ` +
          `slow clients dropped by the server: ${slowDropped} of 2`,
      );
    } finally {
      await session.close();
    }
  }
  return rows;
}
