import { Command, InvalidArgumentError } from 'commander';
import { isSystemName, SYSTEM_NAMES, type SystemName, onCluster } from './cluster';

export const SCENARIOS = ['s1', 's2', 's3', 's4', 'archive'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** Everything a run can be told, with each mode's defaults filled in. */
export interface BenchOptions {
  mode: 'smoke' | 'quick' | 'full';
  /**
   * Some systems, scenarios or rates were chosen by hand (or a profile asked for):
   * the results do not replace the committed `latest`/`quick` ones.
   */
  custom: boolean;
  systems: SystemName[];
  scenarios: ScenarioName[];
  rates: number[] | undefined;
  startRate: number;
  maxRate: number;
  bisections: number;
  equalReps: number;
  warmupS: number;
  durationS: number;
  nodes: number;
  generators: number;
  client: 'raw' | 'socket.io';
  textBytes: number;
  gatewayRef: string | undefined;
  /** Gateway of system `ours-ref`, for before/after in one run. */
  baselineRef: string | undefined;
  profile: SystemName | undefined;
  /** Whole-run time budget; the hard limit is a little above it. */
  budgetS: number;
  noiseCores: number;
  noiseRetries: number;
  brokerCeiling: boolean;
  /** Archive scenario: sizes (rows) to fill the archive to; 0 measures an empty archive. */
  archiveRows: number[] | undefined;
}

function list<T extends string>(allowed: readonly T[], what: string) {
  return (value: string): T[] => {
    const items = value
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean);
    for (const item of items) {
      if (!(allowed as readonly string[]).includes(item)) {
        throw new InvalidArgumentError(`unknown ${what} '${item}' (one of ${allowed.join(', ')})`);
      }
    }
    return items as T[];
  };
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`expected a positive number, got '${value}'`);
  return n;
}

function rates(value: string): number[] {
  return value.split(',').map((s) => positive(s.trim()));
}

interface Raw {
  quick?: boolean;
  smoke?: boolean;
  system?: SystemName[];
  scenario?: ScenarioName[];
  rates?: number[];
  startRate?: number;
  maxRate?: number;
  bisections?: number;
  reps?: number;
  warmup?: number;
  duration?: number;
  nodes?: number;
  generators?: number;
  client?: string;
  textBytes?: number;
  gatewayRef?: string;
  baselineRef?: string;
  profile?: string;
  budget?: number;
  noiseCores?: number;
  noiseRetries?: number;
  archiveRows?: number[];
}

export function parseOptions(argv: string[]): BenchOptions {
  const program = new Command('bench')
    .description(
      'Load harness: our gateway against Socket.IO with @socket.io/redis-adapter (classic and sharded) and one in-memory Socket.IO node, all on this machine.',
    )
    .option('--quick', 'S1 only, every system, within 5 minutes; ends with the RATIO line')
    .option('--smoke', 'tiny run that checks the harness works (CI): one trivial step per system')
    .option(
      '--system <list>',
      `systems to run (${SYSTEM_NAMES.join(',')})`,
      list(SYSTEM_NAMES, 'system'),
    )
    .option(
      '--scenario <list>',
      `scenarios to run (${SCENARIOS.join(',')})`,
      list(SCENARIOS, 'scenario'),
    )
    .option(
      '--rates <list>',
      'fixed offered rates (msg/s) for S1/S2 instead of the adaptive sweep',
      rates,
    )
    .option('--start-rate <n>', 'first rate of the adaptive sweep (msg/s)', positive)
    .option('--max-rate <n>', 'highest rate the sweep offers (msg/s)', positive)
    .option('--bisections <n>', 'bisection steps after the first failing rate', Number)
    .option('--reps <n>', 'rounds of the equal-load comparison', Number)
    .option('--warmup <s>', 'warm-up seconds per step', Number)
    .option('--duration <s>', 'measured seconds per step', positive)
    .option('--nodes <n>', 'server nodes per multi-node system (S1, S2, S4)', positive)
    .option('--generators <n>', 'load-generator processes', positive)
    .option(
      '--client <kind>',
      "generator client: 'raw' (lean Socket.IO wire client) or 'socket.io' (socket.io-client)",
    )
    .option('--text-bytes <n>', 'length of every message text', positive)
    .option(
      '--gateway-ref <ref>',
      'benchmark the gateway as committed at this git ref (default: the working tree)',
    )
    .option(
      '--baseline-ref <ref>',
      "also run system 'ours-ref': the gateway at this git ref (before/after in one run)",
    )
    .option(
      '--profile <system>',
      'run node 0 of this system with --cpu-prof during S1 and summarise the profile',
    )
    .option('--budget <s>', 'time budget of the whole run, seconds', positive)
    .option('--noise-cores <n>', 'other processes above this many cores make a step noisy', Number)
    .option('--noise-retries <n>', 'reruns of a failed noisy step', Number)
    .option(
      '--archive-rows <list>',
      'archive scenario: rows to fill the archive to, in turn (default 1000000,10000000; 0: empty)',
      (value: string) => value.split(',').map((s) => Number(s.trim())),
    )
    .allowExcessArguments(false);
  program.parse(argv, { from: 'user' });
  const raw = program.opts<Raw>();
  if (raw.quick && raw.smoke)
    throw new InvalidArgumentError('--quick and --smoke exclude each other');
  const mode = raw.smoke ? 'smoke' : raw.quick ? 'quick' : 'full';
  if (raw.profile !== undefined && !isSystemName(raw.profile)) {
    throw new InvalidArgumentError(`unknown system '${raw.profile}' for --profile`);
  }
  if (raw.client !== undefined && raw.client !== 'raw' && raw.client !== 'socket.io') {
    throw new InvalidArgumentError("--client is 'raw' or 'socket.io'");
  }
  const defaults = {
    smoke: {
      scenarios: ['s1'],
      warmupS: 0.5,
      durationS: 2,
      bisections: 0,
      equalReps: 0,
      budgetS: 120,
      nodes: 2,
      noiseRetries: 0,
    },
    quick: {
      scenarios: ['s1'],
      warmupS: 1,
      durationS: 3,
      bisections: 2,
      equalReps: 1,
      budgetS: 270,
      nodes: 3,
      noiseRetries: 1,
    },
    full: {
      // The archive scenario needs Docker and fills PostgreSQL with 10M rows: asked for by name.
      scenarios: SCENARIOS.filter((s) => s !== 'archive'),
      warmupS: 2,
      durationS: 5,
      bisections: 3,
      equalReps: 3,
      budgetS: 2_400,
      nodes: 3,
      noiseRetries: 2,
    },
  }[mode];
  const custom =
    raw.system !== undefined ||
    raw.scenario !== undefined ||
    raw.rates !== undefined ||
    raw.baselineRef !== undefined ||
    raw.profile !== undefined;
  return {
    mode,
    custom,
    systems:
      raw.system ??
      // The cluster systems run in S5 only (s5-cluster.ts starts their Redis Cluster).
      SYSTEM_NAMES.filter(
        (s) => (s !== 'ours-ref' || raw.baselineRef !== undefined) && !onCluster(s),
      ),
    // --profile alone runs only the profile.
    scenarios: raw.scenario ?? (raw.profile ? [] : (defaults.scenarios as ScenarioName[])),
    rates: raw.rates ?? (mode === 'smoke' ? [20] : undefined),
    startRate: raw.startRate ?? 250,
    maxRate: raw.maxRate ?? 64_000,
    bisections: raw.bisections ?? defaults.bisections,
    equalReps: raw.reps ?? defaults.equalReps,
    warmupS: raw.warmup ?? defaults.warmupS,
    durationS: raw.duration ?? defaults.durationS,
    nodes: raw.nodes ?? defaults.nodes,
    generators: raw.generators ?? 2,
    client: (raw.client as 'raw' | 'socket.io' | undefined) ?? 'raw',
    textBytes: raw.textBytes ?? 64,
    gatewayRef: raw.gatewayRef,
    baselineRef: raw.baselineRef,
    profile: raw.profile as SystemName | undefined,
    budgetS: raw.budget ?? defaults.budgetS,
    noiseCores: raw.noiseCores ?? 0.25,
    noiseRetries: raw.noiseRetries ?? defaults.noiseRetries,
    brokerCeiling: mode !== 'smoke' && raw.profile === undefined,
    archiveRows: raw.archiveRows,
  };
}
