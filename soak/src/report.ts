import type { FaultKind } from './faults';
import type { Entry } from './history';
import type { SoakRun } from './run';

/** One second of the run: acked sends and failed requests (plus connections lost). */
export interface Second {
  t: number;
  acked: number;
  errors: number;
}

export interface FaultSpan {
  kind: string;
  target: string;
  start: number;
  heal: number;
}

export interface Figures {
  issued: number;
  acked: number;
  failed: number;
  /** Sends answered RECORDS_LOST: stored before a loss, or not; never retried. */
  unsure: number;
  /** Share of sends acked (of those issued). */
  availability: number;
  ackP50: number;
  ackP99: number;
  seconds: Second[];
  spans: FaultSpan[];
  /** Per fault kind: count, and the time from heal to the next acked send (median, max). */
  recovery: Map<string, { count: number; medianMs: number; maxMs: number }>;
}

/** The run's figures, from its history alone. */
export function figures(history: readonly Entry[]): Figures {
  const issuedAt = new Map<string, number>();
  const ackTimes: number[] = [];
  const latencies: number[] = [];
  const seconds: Second[] = [];
  const second = (t: number): Second => {
    const i = Math.floor(t / 1000);
    for (let k = seconds.length; k <= i; k++) seconds.push({ t: k, acked: 0, errors: 0 });
    return seconds[i] as Second;
  };
  const open = new Map<number, FaultSpan>();
  const spans: FaultSpan[] = [];
  let issued = 0;
  let failed = 0;
  let unsure = 0;
  for (const e of history) {
    if (e.k === 'op' && e.op === 'send') {
      issued++;
      issuedAt.set(`${e.c}#${e.n}`, e.t);
    } else if (e.k === 'ok' && e.op === 'send') {
      second(e.t).acked++;
      ackTimes.push(e.t);
      latencies.push(e.t - (issuedAt.get(`${e.c}#${e.n}`) ?? e.t));
    } else if (e.k === 'fail' || e.k === 'lost' || e.k === 'unsure') {
      if (e.k === 'fail' && e.op === 'send') failed++;
      if (e.k === 'unsure' && e.op === 'send') unsure++;
      second(e.t).errors++;
    } else if (e.k === 'fault' && e.phase === 'start') {
      open.set(e.id, { kind: e.kind, target: e.target, start: e.t, heal: e.t });
    } else if (e.k === 'fault' && e.phase === 'heal') {
      const span = open.get(e.id);
      if (span !== undefined) {
        span.heal = e.t;
        spans.push(span);
        open.delete(e.id);
      }
    }
  }
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  const byKind = new Map<string, number[]>();
  for (const span of spans) {
    const next = ackTimes.find((t) => t >= span.heal);
    if (next === undefined) continue;
    const list = byKind.get(span.kind) ?? [];
    list.push(next - span.heal);
    byKind.set(span.kind, list);
  }
  const recovery = new Map<string, { count: number; medianMs: number; maxMs: number }>();
  for (const [kind, list] of byKind) {
    list.sort((a, b) => a - b);
    recovery.set(kind, {
      count: spans.filter((s) => s.kind === kind).length,
      medianMs: list[Math.floor(list.length / 2)] ?? 0,
      maxMs: list.at(-1) ?? 0,
    });
  }
  return {
    issued,
    acked: ackTimes.length,
    failed,
    unsure,
    availability: issued === 0 ? 1 : ackTimes.length / issued,
    ackP50: pct(0.5),
    ackP99: pct(0.99),
    seconds,
    spans,
    recovery,
  };
}

/** The report: the run, its figures, the faults' timeline, and every violation. */
export function reportMarkdown(
  run: SoakRun,
  f: Figures,
  options: { seed: number; broker: string; minutes: number; chart: string; violations: string[] },
): string {
  const kinds = [...new Set([...run.faults.keys(), ...run.faultsFailed.keys()])].sort();
  const lines = [
    `# Soak: ${options.minutes} min, seed ${options.seed}, broker ${options.broker}`,
    '',
    `Started ${run.startedAt.toISOString()}; faults for ${Math.round(run.durationMs / 1000)} s, then quiet.`,
    '',
    `- faults: ${[...run.faults.values()].reduce((a, b) => a + b, 0)}`,
    `- messages acked (room + DM): ${run.messages}`,
    `- sends issued ${f.issued}, acked ${f.acked} (${(f.availability * 100).toFixed(1)}%), given up ${f.failed}, not sure (RECORDS_LOST) ${f.unsure}`,
    `- send ack latency p50 ${f.ackP50} ms, p99 ${f.ackP99} ms (retries across faults included)`,
    `- violations: ${run.violations.length}`,
    '',
    `![throughput and errors over time, faults marked](${options.chart})`,
    '',
    '| fault kind | injected | could not complete | recovery: heal to next acked send, median | max |',
    '| --- | --- | --- | --- | --- |',
    ...kinds.map((kind) => {
      const r = f.recovery.get(kind);
      return `| ${kind} | ${run.faults.get(kind) ?? 0} | ${run.faultsFailed.get(kind) ?? 0} | ${r === undefined ? '-' : `${r.medianMs} ms`} | ${r === undefined ? '-' : `${r.maxMs} ms`} |`;
    }),
    '',
    ...(run.faultErrors.length === 0
      ? []
      : [
          'Faults the harness could not complete:',
          '',
          ...run.faultErrors.map((e) => `- ${e}`),
          '',
        ]),
    '## Timeline of faults',
    '',
    '```',
    ...f.spans
      .sort((a, b) => a.start - b.start)
      .map(
        (s) =>
          `${(s.start / 1000).toFixed(1).padStart(7)}s  ${s.kind.padEnd(15)} ${s.target.padEnd(12)} ${s.heal - s.start} ms`,
      ),
    '```',
    '',
    '## Violations',
    '',
    ...(options.violations.length === 0
      ? ['None.']
      : options.violations.map((v) => `\`\`\`\n${v}\n\`\`\`\n`)),
    '',
  ];
  return lines.join('\n');
}

export type { FaultKind };
