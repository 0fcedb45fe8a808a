import { SYSTEMS, type SystemName } from './cluster';
import { COLORS, type ChartSpec } from './chart';
import type { ProfileSummary } from './profile';
import { profileMarkdown } from './profile';
import type { BrokerCeiling } from './redis';
import type { S3Row } from './s3-locality';
import type { S4Row } from './s4-slow';
import type { SweepScenario } from './scenarios';
import { P99_LIMIT_MS, type StepResult } from './step';

export interface RunMeta {
  mode: 'smoke' | 'quick' | 'full' | 'custom';
  command: string;
  startedAt: string;
  durationS: number;
  machine: {
    cpus: number;
    model: string;
    memGiB: number;
    kernel: string;
    node: string;
    redis: string;
  };
  git: { commit: string; dirty: boolean };
  gateway: string;
  settings: {
    warmupS: number;
    measureS: number;
    generators: number;
    client: string;
    textBytes: number;
    nodes: number;
  };
  /** Load average of the machine when the run started and ended (other users: noise). */
  loadAverage: { start: number; end: number };
  /** ms for a fixed loop at the start and the end (see speed.ts): lower is faster. */
  speedProbeMs: { start: number; end: number };
}

export interface Ratio {
  /** Our S1 saturation rate / the adapter's. */
  throughput: number;
  /** Our p99 / the adapter's at the equal load. */
  p99: number;
  /** Our CPU-µs per delivery / the adapter's at the equal load. */
  cpuPerDelivery: number;
  /** Our deliveries per CPU-second / the in-memory node's at the equal load. */
  perCpuVsMemory: number;
  equalRate: number;
}

export interface RunResult {
  meta: RunMeta;
  broker?: BrokerCeiling[];
  s1?: SweepScenario;
  s2?: SweepScenario;
  s3?: S3Row[];
  s4?: S4Row[];
  ratio?: Ratio;
  profile?: { system: SystemName; rate: number; summary: ProfileSummary; steps: StepResult[] };
}

/**
 * The last line of every run (a contract: keep the names and their order). The third figure is
 * our CPU per delivery over the adapter's at the equal-load step.
 */
export function ratioLine(ratio: Ratio | undefined): string {
  const f = (n: number | undefined) =>
    n !== undefined && Number.isFinite(n) ? n.toFixed(2) : 'nan';
  return `RATIO throughput_vs_socketio_redis_adapter=${f(ratio?.throughput)} p99_vs_socketio_redis_adapter=${f(ratio?.p99)} cpu_vs_socketio_redis_adapter=${f(ratio?.cpuPerDelivery)}`;
}

export function computeRatio(s1: SweepScenario | undefined): Ratio | undefined {
  if (!s1) return undefined;
  const sat = (system: SystemName) => s1.sweeps.find((s) => s.system === system)?.saturation;
  const ours = sat('ours');
  const adapter = sat('adapter');
  if (ours === undefined || adapter === undefined) return undefined;
  const eq = s1.equalLoad?.median;
  const q = (a: number | undefined, b: number | undefined) =>
    a !== undefined && b !== undefined && b > 0 ? a / b : Number.NaN;
  // Without an equal-load round (smoke): the steps at the one common rate.
  const common = (system: SystemName) => s1.sweeps.find((s) => s.system === system)?.steps.at(-1);
  return {
    throughput: q(ours, adapter),
    p99: eq
      ? q(eq.ours?.p99, eq.adapter?.p99)
      : q(common('ours')?.latency.p99, common('adapter')?.latency.p99),
    cpuPerDelivery: eq
      ? q(eq.ours?.cpuUsPerDelivery, eq.adapter?.cpuUsPerDelivery)
      : q(common('ours')?.cpuUsPerDelivery, common('adapter')?.cpuUsPerDelivery),
    perCpuVsMemory: eq
      ? q(eq.ours?.deliveriesPerCpuSec, eq.memory?.deliveriesPerCpuSec)
      : q(common('ours')?.deliveriesPerCpuSec, common('memory')?.deliveriesPerCpuSec),
    equalRate: s1.equalLoad?.rate ?? common('ours')?.rate ?? 0,
  };
}

const n = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : '–');
const int = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '–');

function stepTable(steps: StepResult[]): string[] {
  return [
    '| system | offered msg/s | p50 ms | p99 ms | p99.9 ms | deliveries/s | lost | dup | CPU-µs/delivery | SUT cores | generator cores | other cores | peak RSS MB | result |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...steps.map(
      (s) =>
        `| ${s.system} | ${int(s.rate)} | ${n(s.latency.p50, 2)} | ${n(s.latency.p99, 2)} | ${n(s.latency.p999, 2)} | ${int(s.deliveriesPerSec)} | ${s.lost} | ${s.duplicates} | ${n(s.cpuUsPerDelivery, 2)} | ${n(s.sutCores, 2)} | ${n(s.generatorCores, 2)} | ${n(s.otherCores, 2)} | ${n(s.peakRssMb, 0)} | ${s.pass ? 'pass' : `fail: ${s.failReason ?? ''}`}${s.retries > 0 ? ` (after ${s.retries} noisy ${s.retries > 1 ? 'retries' : 'retry'})` : ''} |`,
    ),
  ];
}

function sweepSection(scenario: SweepScenario, title: string): string[] {
  const lines = [`## ${title}`, ''];
  const l = scenario.layout;
  lines.push(
    `${l.rooms} room(s) of ${l.roomSize} clients, ${l.nodes} server node(s) (the in-memory baseline: 1), members ${l.placement === 'spread' ? 'spread over all nodes' : 'of a room on one node'}.`,
    '',
  );
  const eq = scenario.equalLoad;
  lines.push(
    `| system | saturation msg/s | deliveries/s at saturation | ${eq ? `p50 / p99 / p99.9 ms at ${int(eq.rate)} msg/s | CPU-µs per delivery | deliveries per CPU-s | ` : ''}peak RSS MB |`,
    `| --- | ---: | ---: | ${eq ? '---: | ---: | ---: | ' : ''}---: |`,
  );
  for (const s of scenario.sweeps) {
    const m = eq?.median[s.system];
    const peak = Math.max(0, ...s.steps.map((x) => x.peakRssMb));
    lines.push(
      `| ${SYSTEMS[s.system].label} | ${int(s.saturation)} | ${int(s.atSaturation?.deliveriesPerSec ?? Number.NaN)} | ${m ? `${n(m.p50, 2)} / ${n(m.p99, 2)} / ${n(m.p999, 2)} | ${n(m.cpuUsPerDelivery, 2)} | ${int(m.deliveriesPerCpuSec)} | ` : ''}${n(peak, 0)} |`,
    );
  }
  lines.push(
    '',
    '<details><summary>Every step</summary>',
    '',
    ...stepTable([...scenario.sweeps.flatMap((s) => s.steps), ...(eq?.steps ?? [])]),
    '',
    '</details>',
    '',
  );
  return lines;
}

/** The targets of issue 18, S1 in one run. */
export function targetsTable(ratio: Ratio): string[] {
  const row = (name: string, value: number, goal: string, met: boolean | undefined) =>
    `| ${name} | ${n(value, 2)} | ${goal} | ${met === undefined ? 'reported' : met ? 'met' : 'not met'} |`;
  return [
    '| target (S1, same run) | ours / baseline | goal | |',
    '| --- | ---: | ---: | --- |',
    row('saturation throughput vs redis-adapter', ratio.throughput, '≥ 3.0', ratio.throughput >= 3),
    row(
      `p99 vs redis-adapter at ${int(ratio.equalRate)} msg/s`,
      ratio.p99,
      '≤ 1.0',
      ratio.p99 <= 1,
    ),
    row(
      `CPU per delivered message vs redis-adapter at ${int(ratio.equalRate)} msg/s`,
      ratio.cpuPerDelivery,
      '≤ 1.0',
      ratio.cpuPerDelivery <= 1,
    ),
    row('deliveries per CPU-second vs in-memory node', ratio.perCpuVsMemory, '→ 1', undefined),
  ];
}

/** PUBLISH, XADD and our APPEND script, each alone on one room, nobody subscribed. */
export function brokerSection(broker: BrokerCeiling[]): string[] {
  const publish = broker.find((b) => b.name === 'publish')?.requestsPerSec ?? Number.NaN;
  return [
    '## Broker ceiling',
    '',
    'One room, pipelined 16 deep over 20 connections, nobody subscribed. µs per call = 1 / calls per second (Redis is single-threaded and busy throughout).',
    '',
    '| what | calls/s | µs of Redis per call | vs PUBLISH | command |',
    '| --- | ---: | ---: | ---: | --- |',
    ...broker.map(
      (b) =>
        `| ${b.name} | ${int(b.requestsPerSec)} | ${n(1e6 / b.requestsPerSec, 2)} | ${n(publish / b.requestsPerSec, 2)}x | \`${b.command}\` |`,
    ),
    '',
  ];
}

export function markdown(run: RunResult, chartFiles: string[]): string {
  const { meta } = run;
  const m = meta.machine;
  const lines = [
    `# Benchmark: ${meta.mode} run, ${meta.startedAt}`,
    '',
    `- Command: \`${meta.command}\` (${n(meta.durationS, 0)} s)`,
    `- Machine: ${m.cpus} × ${m.model}, ${n(m.memGiB, 0)} GiB, Linux ${m.kernel}, Node ${m.node}, Redis ${m.redis}`,
    `- Gateway: ${meta.gateway}; repository at ${meta.git.commit.slice(0, 12)}${meta.git.dirty ? ' (with uncommitted changes)' : ''}`,
    `- Steps: ${meta.settings.warmupS} s warm-up + ${meta.settings.measureS} s measured; ${meta.settings.generators} generator processes (${meta.settings.client} client); ${meta.settings.textBytes}-byte texts`,
    `- Load average (other users of the machine) at start / end: ${n(meta.loadAverage.start, 2)} / ${n(meta.loadAverage.end, 2)}`,
    `- Speed probe (fixed loop, lower is faster; compare runs only when these agree) at start / end: ${n(meta.speedProbeMs.start, 0)} / ${n(meta.speedProbeMs.end, 0)} ms`,
    '',
  ];
  if (run.ratio) lines.push(...targetsTable(run.ratio), '', `\`${ratioLine(run.ratio)}\``, '');
  for (const file of chartFiles) lines.push(`![latency against offered load](${file})`, '');
  if (run.s1) lines.push(...sweepSection(run.s1, 'S1: rooms of 50 over 3 nodes'));
  if (run.s2) lines.push(...sweepSection(run.s2, 'S2: one large room (fan-out)'));
  if (run.s3) {
    lines.push(
      '## S3: many small rooms, 1 → 4 nodes',
      '',
      'Each room (5 clients) lives on one node. *Foreign share*: the part of what a node receives from Redis that is for rooms it has no member in (estimated from bytes per message on 1 node).',
      '',
    );
    lines.push(
      '| nodes | system | p99 ms | CPU-µs/delivery | bus bytes/s received per node | foreign share |',
      '| ---: | --- | ---: | ---: | --- | ---: |',
    );
    for (const r of run.s3) {
      lines.push(
        `| ${r.nodes} | ${r.system} | ${n(r.step.latency.p99, 2)} | ${n(r.step.cpuUsPerDelivery, 2)} | ${r.busRx.map((b) => `${n(b / 1024, 0)} KiB/s`).join(', ')} | ${n(r.foreignShare * 100, 0)}% |`,
      );
    }
    lines.push('');
  }
  if (run.s4) {
    lines.push(
      '## S4: slow consumers',
      '',
      "2 of 200 clients stop reading (1%); 2000-character texts, so that their backlog outgrows the kernel's socket buffers. Others' p99 should stay within 1.2x of the control step, and server memory bounded.",
      '',
    );
    lines.push(
      '| system | p99 control ms | p99 with slow ms | ratio | others lost | busiest server RSS growth MB (control → slow step) | peak RSS MB | slow clients dropped by the server | result |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    );
    for (const r of run.s4) {
      lines.push(
        `| ${r.system} | ${n(r.control.latency.p99, 2)} | ${n(r.slow.latency.p99, 2)} | ${n(r.p99Ratio, 2)} | ${r.slow.lost} | ${n(r.controlRssGrowthMb, 1)} → ${n(r.rssGrowthMb, 1)} | ${n(r.slow.peakRssMb, 0)} | ${r.slowDropped} of 2 | ${r.pass ? 'pass' : 'fail'} |`,
      );
    }
    lines.push('');
  }
  if (run.broker) lines.push(...brokerSection(run.broker));
  if (run.profile)
    lines.push(
      profileMarkdown(
        run.profile.summary,
        `CPU profile: ${run.profile.system} node 0 at ${run.profile.rate} msg/s`,
      ),
    );
  return lines.join('\n');
}

/** Latency (p99, median over repeated steps) against offered load, one line per system. */
export function latencyChart(scenario: SweepScenario, subtitle: string): ChartSpec {
  const series = scenario.sweeps.map((s, i) => {
    const steps = [
      ...s.steps,
      ...(scenario.equalLoad?.steps.filter((x) => x.system === s.system) ?? []),
    ];
    const rates = [...new Set(steps.map((x) => x.rate))];
    const points = rates.map((rate) => {
      const at = steps.filter((x) => x.rate === rate);
      const p99s = at.map((x) => x.latency.p99).sort((a, b) => a - b);
      return {
        x: rate,
        y: p99s[Math.floor(p99s.length / 2)] ?? Number.NaN,
        pass: at.every((x) => x.pass),
      };
    });
    return { name: SYSTEMS[s.system].label, color: COLORS[i % COLORS.length] ?? '#000', points };
  });
  const l = scenario.layout;
  return {
    title: `${scenario.name.toUpperCase()}: p99 latency against offered load`,
    subtitle: `${l.rooms} room(s) × ${l.roomSize} clients, ${l.nodes} nodes; ${subtitle}`,
    xLabel: 'offered load (messages sent per second, all rooms)',
    yLabel: 'p99 latency from scheduled send (ms, log scale)',
    series,
    threshold: { y: P99_LIMIT_MS, label: `p99 limit ${P99_LIMIT_MS} ms` },
  };
}
