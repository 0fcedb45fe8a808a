/**
 * S5, Redis Cluster (issue #13, point 7): S1 (rooms of 50 over 3 nodes) and S2 (one room of 200)
 * with our gateway on one Redis, our gateway on a 3-master Redis Cluster (3 replicas), and
 * Socket.IO's sharded adapter on the same cluster, in one run: each one's saturation, p99 at one
 * equal load (half the sharded adapter's saturation), and the broker's CPU per message sent, per
 * shard (master) and in total. Replicas are running but not counted (the single Redis has none).
 * Loopback only, bounded by `--budget` seconds. Writes bench/results/s5-cluster.{md,json}.
 *
 *   npx tsx bench/src/s5-cluster.ts [--quick] [--budget 900] [--rates 200,400]
 *
 * (bench/src/flood.ts also calls itself S5: that is issue #11's flooders scenario.)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startRedisCluster } from '@chat/test-support';
import { buildBundles } from './build';
import { nowMs } from './clock';
import { SYSTEMS, type SystemName } from './cluster';
import { say, warn } from './out';
import { installCleanup } from './procs';
import { ensureRedisTools, startRedis } from './redis';
import { sweepScenario, type ScenarioSettings, type SweepScenario } from './scenarios';
import type { BenchEnv } from './session';
import type { StepResult } from './step';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RESULTS = join(ROOT, 'bench/results');
const TMP = join(RESULTS, 'tmp');
const quick = process.argv.includes('--quick');
const budgetArg = process.argv.indexOf('--budget');
const BUDGET_S = budgetArg > 0 ? Number(process.argv[budgetArg + 1]) : quick ? 480 : 1_200;
const ratesArg = process.argv.indexOf('--rates');
/** Fixed rates instead of the saturation search (a check that everything runs). */
const RATES = ratesArg > 0 ? (process.argv[ratesArg + 1] ?? '').split(',').map(Number) : undefined;
/** The reference (first: its half saturation is the equal load), then ours on both brokers. */
const S5_SYSTEMS: SystemName[] = ['sharded-cluster', 'ours', 'ours-cluster'];

/** Broker CPU (µs) per message sent in a step's window: per shard (role) and in total. */
function brokerCpu(step: StepResult, measureMs: number): { shards: number[]; total: number } {
  const messages = (step.rate * measureMs) / 1000;
  const shards = step.sut
    .filter((u) => u.role.startsWith('redis'))
    .sort((a, b) => a.role.localeCompare(b.role))
    .map((u) => (u.cpuMs * 1000) / messages);
  return { shards, total: shards.reduce((n, v) => n + v, 0) };
}

function median(values: number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : (sorted[Math.floor(sorted.length / 2)] ?? Number.NaN);
}

const f = (n: number | undefined, digits = 2) =>
  n === undefined || !Number.isFinite(n) ? 'n/a' : n.toFixed(digits);

function table(scenario: SweepScenario, measureMs: number): string[] {
  const rate = scenario.equalLoad?.rate ?? 0;
  const lines = [
    `#### ${scenario.name.toUpperCase()}: ${scenario.layout.rooms} room(s) of ${scenario.layout.roomSize}, ${scenario.layout.nodes} nodes; equal load ${rate} msg/s`,
    '',
    `| system | saturation msg/s | deliveries/s at sat. | p50 / p99 ms at ${rate} msg/s | broker CPU-µs per message, per shard | broker total | CPU-µs per delivery (all) |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const sweep of scenario.sweeps) {
    const equal = scenario.equalLoad?.steps.filter((s) => s.system === sweep.system) ?? [];
    const cpu = equal.map((s) => brokerCpu(s, measureMs));
    const shardCount = Math.max(0, ...cpu.map((c) => c.shards.length));
    const shards = Array.from({ length: shardCount }, (_, i) =>
      f(median(cpu.map((c) => c.shards[i] ?? Number.NaN))),
    ).join(' / ');
    const m = scenario.equalLoad?.median[sweep.system];
    lines.push(
      `| ${SYSTEMS[sweep.system].label} | ${sweep.saturation} | ${Math.round(sweep.atSaturation?.deliveriesPerSec ?? 0)} | ${f(m?.p50)} / ${f(m?.p99)} | ${shards} | ${f(median(cpu.map((c) => c.total)))} | ${f(m?.cpuUsPerDelivery)} |`,
    );
  }
  return lines;
}

async function main(): Promise<void> {
  const started = nowMs();
  const deadline = started + BUDGET_S * 1000;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  installCleanup(join(TMP, 'pids'), BUDGET_S * 1000 + 60_000);
  const logDir = join(TMP, 'logs', `s5-${stamp}`);
  mkdirSync(logDir, { recursive: true });
  say(`bench s5-cluster: ${S5_SYSTEMS.join(', ')}; S1 and S2; logs in ${logDir}`);
  const tools = ensureRedisTools(join(logDir, 'apt.log'));
  const redis = await startRedis(tools, await freePort(), join(logDir, 'redis.log'));
  const cluster = await startRedisCluster({ nodeTimeoutMs: 5_000 });
  process.on('exit', () => cluster.nodes.forEach((n) => n.child.kill('SIGKILL')));
  try {
    const env: BenchEnv & { redisCluster: typeof cluster } = {
      root: ROOT,
      bundles: await buildBundles(ROOT, undefined),
      redis,
      redisCluster: cluster,
      logDir,
      runId: Date.now().toString(36),
      generators: 2,
      textBytes: 64,
      client: 'raw',
    };
    const measureMs = quick ? 3_000 : 5_000;
    const settings = (until: number): ScenarioSettings => ({
      timing: { warmupMs: quick ? 1_000 : 2_000, measureMs, drainMs: 3_000 },
      noise: { cores: 0.25, retries: 1, waitMs: 2_000 },
      deadline: until,
    });
    const sweep = { startRate: 250, maxRate: 64_000, bisections: quick ? 1 : 2, rates: RATES };
    const half = started + (deadline - started) * 0.6;
    const layout = (rooms: number, roomSize: number) => ({
      rooms,
      roomSize,
      nodes: 3,
      placement: 'spread' as const,
    });
    const s1 = await sweepScenario(
      's1',
      S5_SYSTEMS,
      layout(4, 50),
      env,
      settings(half),
      sweep,
      quick ? 1 : 3,
    );
    const s2 = await sweepScenario(
      's2',
      S5_SYSTEMS,
      layout(1, 200),
      env,
      settings(deadline - 10_000),
      { ...sweep, startRate: 50 },
      1,
    );
    const report = [
      `### S5: Redis Cluster (3 masters + 3 replicas) against one Redis and the sharded adapter`,
      '',
      `\`npx tsx bench/src/s5-cluster.ts${quick ? ' --quick' : ''}\`, ${new Date().toISOString()}, ${Math.round((nowMs() - started) / 1000)} s. Broker CPU: Redis processes' CPU in the measurement window per message sent (one Redis: one shard; the cluster: its 3 masters; replicas not counted), medians of the equal-load steps.`,
      '',
      ...table(s1, measureMs),
      '',
      ...table(s2, measureMs),
      '',
    ].join('\n');
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(join(RESULTS, 's5-cluster.md'), report);
    writeFileSync(join(RESULTS, 's5-cluster.json'), JSON.stringify({ s1, s2 }, null, 1));
    say(report);
  } finally {
    await redis.stop();
    await cluster.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    warn(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
