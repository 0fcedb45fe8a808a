import type { SystemName } from './cluster';
import { nowMs } from './clock';
import { say } from './out';
import { waitForQuiet } from './quiet';
import type { Session } from './session';
import type { StepOptions, StepResult } from './step';

/** How the harness copes with other processes on the machine. */
export interface NoisePolicy {
  /** Other processes using more cores than this make a step noisy. */
  cores: number;
  /** A failed noisy step is run again up to this many times. */
  retries: number;
  /** Before a step, wait at most this long for the machine to be quiet. */
  waitMs: number;
  /** No retries after this monotonic time (ms): the run's time budget comes first. */
  until?: number;
}

/**
 * Whether a step's result says too little about the system to keep: it failed while other
 * processes used more than `noise.cores`, a retry is left, and the run's time budget allows.
 */
export function runAgain(
  step: Pick<StepResult, 'pass' | 'otherCores'>,
  noise: NoisePolicy,
  attempt: number,
  now: number,
): boolean {
  const late = noise.until !== undefined && now > noise.until;
  return !step.pass && step.otherCores > noise.cores && attempt < noise.retries && !late;
}

/**
 * One measured step: waits for a quiet machine first, and runs a failed step again when other
 * processes took more than `noise.cores` during it (then the failure says little about the
 * system). Every attempt is printed; the last one counts.
 */
export async function measure(
  session: Session,
  rate: number,
  noise: NoisePolicy,
  options: StepOptions = {},
): Promise<StepResult> {
  for (let attempt = 0; ; attempt++) {
    await waitForQuiet(noise.cores, noise.waitMs);
    const step = await session.step(rate, options);
    step.retries = attempt;
    say(stepLine(step));
    // A step that dropped clients or ended with a backlog would poison the next one.
    if (step.disconnects > 0 || (!step.pass && step.lost > 0)) await session.restart();
    if (!runAgain(step, noise, attempt, nowMs())) return step;
    say(`    (other processes used ${step.otherCores.toFixed(2)} cores: noisy, running it again)`);
  }
}

export interface SweepOptions {
  /** First rate tried (messages/s offered, all senders together). */
  startRate: number;
  /** Never offered more than this. */
  maxRate: number;
  /** Geometric bisection steps between the last pass and the first failure. */
  bisections: number;
  /** Fixed rates instead of the adaptive search (each system gets every one). */
  rates?: number[];
  /** The sweep stops refining when this monotonic time (ms) is near. */
  deadline: number;
  /** Rough cost of one step, ms (to stay inside the deadline). */
  stepCostMs: number;
  noise: NoisePolicy;
}

export interface SweepResult {
  system: SystemName;
  steps: StepResult[];
  /** Highest passing rate (0 if none passed). */
  saturation: number;
  /** The step at that rate. */
  atSaturation: StepResult | undefined;
}

/** Rounds to 2 significant digits, so rates read well in tables. */
export function niceRate(rate: number): number {
  if (rate <= 0) return 0;
  const magnitude = 10 ** Math.max(0, Math.floor(Math.log10(rate)) - 1);
  return Math.max(1, Math.round(rate / magnitude) * magnitude);
}

/**
 * The adaptive search of one system: double while passing, then bisect (geometrically).
 *
 * One failing step does not end the doubling: the search tries the next rate anyway, and only
 * a second failure in a row sets the upper bound (at the first of the two). A failure followed
 * by a pass at a higher rate was the machine, not the system (a shared VM has slow phases), and
 * is forgotten. Once bisecting, every failure counts.
 */
export class Search {
  private lo = 0;
  private hi = Number.POSITIVE_INFINITY;
  private bisected = 0;
  /** A failed rate of the doubling phase not yet confirmed by a second failure. */
  private strike: number | undefined;
  private fixed: number[] | undefined;
  next: number | undefined;

  constructor(private readonly options: Omit<SweepOptions, 'deadline' | 'stepCostMs' | 'noise'>) {
    this.fixed = options.rates ? [...options.rates] : undefined;
    this.next = this.fixed ? this.fixed.shift() : options.startRate;
  }

  record(rate: number, pass: boolean): void {
    if (this.fixed) {
      this.next = this.fixed.shift();
      return;
    }
    if (!Number.isFinite(this.hi)) {
      if (pass) {
        this.lo = Math.max(this.lo, rate);
        this.strike = undefined;
      } else if (this.strike === undefined) {
        this.strike = rate;
      } else {
        this.hi = this.strike;
        this.strike = undefined;
      }
      if (!Number.isFinite(this.hi)) {
        const doubled = rate * 2;
        this.next = doubled <= this.options.maxRate ? doubled : undefined;
        return;
      }
    } else if (pass) this.lo = Math.max(this.lo, rate);
    else this.hi = Math.min(this.hi, rate);
    if (this.lo === 0) {
      // Failing from the start: halve down to a tenth of the start rate.
      const half = niceRate(Math.min(rate, this.hi) / 2);
      this.next = half >= this.options.startRate / 10 && half < this.hi ? half : undefined;
      return;
    }
    if (this.bisected >= this.options.bisections) {
      this.next = undefined;
      return;
    }
    this.bisected++;
    const mid = niceRate(Math.sqrt(this.lo * this.hi));
    this.next = mid > this.lo && mid < this.hi ? mid : undefined;
  }
}

/**
 * Finds each system's saturation (highest offered rate with p99 < 50 ms, nothing lost, no
 * send refused), taking one step per system in turn so that any drift of the machine (other
 * processes, thermal) hits every system alike.
 */
export async function sweep(sessions: Session[], options: SweepOptions): Promise<SweepResult[]> {
  const results = sessions.map((s): SweepResult => ({
    system: s.system,
    steps: [],
    saturation: 0,
    atSaturation: undefined,
  }));
  const searches = sessions.map(() => new Search(options));
  const noise = { ...options.noise, until: options.deadline - options.stepCostMs };
  for (let outOfTime = false; !outOfTime;) {
    const active = searches.map((s, i) => (s.next === undefined ? -1 : i)).filter((i) => i >= 0);
    if (active.length === 0) break;
    for (const i of active) {
      if (nowMs() + options.stepCostMs > options.deadline) {
        say('  (time budget reached: the sweep stops here)');
        outOfTime = true;
        break;
      }
      const session = sessions[i];
      const search = searches[i];
      const result = results[i];
      const rate = search?.next;
      if (!session || !search || !result || rate === undefined) continue;
      const step = await measure(session, rate, noise);
      result.steps.push(step);
      if (step.pass && rate >= result.saturation) {
        result.saturation = rate;
        result.atSaturation = step;
      }
      search.record(rate, step.pass);
    }
  }
  return results;
}

export function stepLine(step: StepResult): string {
  const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');
  return (
    `  ${step.system.padEnd(8)} ${String(step.rate).padStart(6)} msg/s  ` +
    `p50 ${f(step.latency.p50, 2)} p99 ${f(step.latency.p99, 2)} p99.9 ${f(step.latency.p999, 2)} ms  ` +
    `${Math.round(step.deliveriesPerSec)} deliv/s  ${f(step.cpuUsPerDelivery, 2)} CPU-µs/deliv  ` +
    `lag ${f(step.sendLagP99, 1)} ms  sut ${f(step.sutCores, 2)} gen ${f(step.generatorCores, 2)} irq ${f(step.irqCores, 2)} other ${f(step.otherCores, 2)} cores  ` +
    `${step.pass ? 'PASS' : `FAIL (${step.failReason ?? ''})`}`
  );
}
