/**
 * `npm run bench [-- options]`: starts Redis, the systems under test and the load generators
 * on this machine (loopback only), measures, writes bench/results, and ends with the RATIO
 * line. See BENCHMARKS.md for the method and `--help` for the options.
 */
import { freePort } from '@chat/test-support';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { appendScriptSource, buildBundles } from './build';
import { CLIENT_VARIANTS, SYSTEMS, type SystemName } from './cluster';
import { nowMs } from './clock';
import { parseOptions, type BenchOptions } from './options';
import { say, warn } from './out';
import { loadAverage } from './proc-stats';
import { prune } from './housekeeping';
import { installCleanup } from './procs';
import { summariseProfile } from './profile';
import {
  brokerCeiling,
  ceilingArgs,
  ensureRedisTools,
  startRedis,
  supportsSharded,
  type RedisServer,
} from './redis';
import { computeRatio, ratioLine, type RunResult } from './report';
import { saveRun, smokeVerdict } from './save';
import { scenarioArchive } from './archive';
import { scenarioS3 } from './s3-locality';
import { scenarioS4 } from './s4-slow';
import { sweepScenario, type ScenarioSettings } from './scenarios';
import { Session, type BenchEnv } from './session';
import type { StepResult } from './step';
import { speedProbeMs } from './speed';
import { measure, niceRate } from './sweep';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RESULTS = join(ROOT, 'bench/results');
const TMP = join(RESULTS, 'tmp');

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

function settingsFor(options: BenchOptions, deadline: number): ScenarioSettings {
  return {
    timing: {
      warmupMs: options.warmupS * 1000,
      measureMs: options.durationS * 1000,
      drainMs: 3_000,
    },
    noise: {
      cores: options.noiseCores,
      retries: options.noiseRetries,
      waitMs: options.mode === 'full' ? 10_000 : 2_000,
    },
    deadline,
  };
}

async function profilePhase(
  options: BenchOptions,
  env: BenchEnv,
  settings: ScenarioSettings,
  run: RunResult,
): Promise<void> {
  const system = options.profile;
  if (!system) return;
  const dir = join(TMP, 'profile', `${env.runId}`);
  mkdirSync(dir, { recursive: true });
  const rate = options.rates?.[0] ?? 1_000;
  say(`profile: ${system} node 0 with --cpu-prof, S1 layout, ${rate} msg/s`);
  const session = await Session.open(
    system,
    's1',
    { rooms: 4, roomSize: 50, nodes: options.nodes, placement: 'spread' },
    settings.timing,
    { ...env, profile: { system, dir } },
  );
  const steps: StepResult[] = [];
  try {
    for (const r of options.rates ?? [rate]) steps.push(await measure(session, r, settings.noise));
  } finally {
    await session.close();
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no profile was written to ${dir}`);
  const summary = summariseProfile(join(dir, file), ROOT);
  run.profile = { system, rate, summary, steps };
  say(`profile written to ${join(dir, file)}; top self time:`);
  for (const e of summary.modules.slice(0, 8))
    say(`  ${(e.share * 100).toFixed(1).padStart(5)}%  ${e.name}`);
  for (const e of summary.functions.slice(0, 12))
    say(`  ${(e.share * 100).toFixed(1).padStart(5)}%  ${e.name}`);
}

async function scenarios(
  options: BenchOptions,
  env: BenchEnv,
  redis: RedisServer,
  deadline: number,
  run: RunResult,
): Promise<void> {
  const settings = settingsFor(options, deadline);
  const systems = options.systems.filter((s) => s !== 'sharded' || supportsSharded(redis.version));
  if (systems.length < options.systems.length)
    warn(`Redis ${redis.version} has no sharded pub/sub: skipping 'sharded'`);
  await profilePhase(options, env, settings, run);
  const smoke = options.mode === 'smoke';
  const sweepOptions = {
    startRate: options.startRate,
    maxRate: options.maxRate,
    bisections: options.bisections,
    rates: options.rates,
  };
  const scenarioList = options.scenarios;
  if (scenarioList.includes('s1')) {
    const layout = {
      rooms: smoke ? 2 : 4,
      roomSize: smoke ? 10 : 50,
      nodes: options.nodes,
      placement: 'spread' as const,
    };
    run.s1 = await sweepScenario(
      's1',
      systems,
      layout,
      env,
      settings,
      sweepOptions,
      options.equalReps,
    );
    run.ratio = computeRatio(run.s1);
  }
  const halfAdapter = run.ratio?.equalRate ?? 500;
  // Client variants of one server are compared in S1 only.
  const servers = systems.filter((s) => !CLIENT_VARIANTS.includes(s));
  if (scenarioList.includes('s2')) {
    const layout = { rooms: 1, roomSize: 200, nodes: options.nodes, placement: 'spread' as const };
    const start = niceRate(Math.max(10, options.startRate / 5));
    run.s2 = await sweepScenario(
      's2',
      servers,
      layout,
      env,
      settings,
      { ...sweepOptions, startRate: start },
      Math.min(1, options.equalReps),
    );
  }
  if (scenarioList.includes('s3')) {
    run.s3 = await scenarioS3(servers, env, settings, Math.max(100, halfAdapter), smoke ? 2 : 4);
  }
  if (scenarioList.includes('s4')) {
    const slowTiming = {
      ...settings.timing,
      measureMs: Math.max(settings.timing.measureMs, smoke ? 2_000 : 25_000),
    };
    run.s4 = await scenarioS4(servers, env, settings, halfAdapter, slowTiming);
  }
  if (scenarioList.includes('archive')) {
    await scenarioArchive(env, settings, {
      smoke,
      rates: options.rates ?? [3_600],
      rows: options.archiveRows ?? (smoke ? [20_000] : [1_000_000, 10_000_000]),
      resultsDir: RESULTS,
    });
  }
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const started = nowMs();
  const deadline = started + options.budgetS * 1000;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const runId = Date.now().toString(36);
  installCleanup(join(TMP, 'pids'), options.budgetS * 1000 + 25_000);
  prune(join(TMP, 'logs'), 10);
  prune(join(TMP, 'profile'), 5);
  prune(join(TMP, 'runs'), 60);
  const logDir = join(TMP, 'logs', stamp);
  mkdirSync(logDir, { recursive: true });
  say(
    `bench ${options.mode}: systems ${options.systems.join(', ')}; scenarios ${options.scenarios.join(', ')}; logs in ${logDir}`,
  );
  const loadStart = loadAverage();
  const tools = ensureRedisTools(join(logDir, 'apt.log'));
  const redis = await startRedis(tools, await freePort(), join(logDir, 'redis.log'));
  const bundles = await buildBundles(ROOT, options.gatewayRef, options.baselineRef);
  // The gateway's APPEND is read for the broker ceiling by its declared names: check now, before
  // any system runs (and in --smoke), that the bench still gives every one a value.
  const appendSource = await appendScriptSource(bundles.scripts);
  ceilingArgs(appendSource, '');
  const env: BenchEnv = {
    root: ROOT,
    bundles,
    redis,
    logDir,
    runId,
    generators: options.generators,
    textBytes: options.textBytes,
    client: options.client,
  };
  const cpu = cpus();
  const run: RunResult = {
    meta: {
      mode: options.custom ? 'custom' : options.mode,
      command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      startedAt: new Date().toISOString(),
      durationS: 0,
      machine: {
        cpus: cpu.length,
        model: cpu[0]?.model.trim() ?? 'unknown',
        memGiB: totalmem() / 2 ** 30,
        kernel: release(),
        node: process.version,
        redis: redis.version,
      },
      git: { commit: git(['rev-parse', 'HEAD']), dirty: git(['status', '--porcelain']) !== '' },
      gateway: bundles.gatewaySource,
      settings: {
        warmupS: options.warmupS,
        measureS: options.durationS,
        generators: options.generators,
        client: options.client,
        textBytes: options.textBytes,
        nodes: options.nodes,
      },
      loadAverage: { start: loadStart, end: Number.NaN },
      speedProbeMs: { start: speedProbeMs(), end: Number.NaN },
    },
  };
  if (options.brokerCeiling) {
    run.broker = await brokerCeiling(tools, redis.port, 300, 200_000, appendSource);
    for (const b of run.broker)
      say(`broker ceiling: ${Math.round(b.requestsPerSec)} ${b.name}/s (${b.command})`);
  }
  try {
    await scenarios(options, env, redis, deadline - 15_000, run);
  } finally {
    await redis.stop();
  }
  run.meta.durationS = (nowMs() - started) / 1000;
  run.meta.loadAverage.end = loadAverage();
  run.meta.speedProbeMs.end = speedProbeMs();
  saveRun(run, options, stamp, RESULTS);
  let code = 0;
  if (options.mode === 'smoke') {
    const problems = smokeVerdict(run);
    for (const p of problems) say(`smoke: ${p}`);
    say(
      problems.length === 0
        ? `smoke: ok (${Object.keys(SYSTEMS)
            .filter((s) => run.s1?.sweeps.some((w) => w.system === (s as SystemName)))
            .join(', ')})`
        : 'smoke: FAILED',
    );
    code = problems.length === 0 ? 0 : 1;
  }
  say(`done in ${Math.round(run.meta.durationS)} s`);
  say(ratioLine(run.ratio));
  return code;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    warn(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
