import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { BROKERS, type BrokerName } from './brokers';
import { soakChartPng } from './chart';
import { check } from './checker/check';
import { describeViolation } from './checker/format';
import { ALL_FAULT_KINDS, type FaultKind } from './faults';
import { parseHistory } from './history';
import { figures, reportMarkdown } from './report';
import { runSoak } from './run';

const say = (line: string) => void process.stdout.write(`${line}\n`);

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

function list(value: string): string[] {
  return value.split(',').filter(Boolean);
}

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

const program = new Command('soak')
  .description(
    'Chaos soak: gateways, clients and random faults, then a history checker (soak/README.md)',
  )
  .option('--minutes <n>', 'how long faults go on', positive, 1)
  .option('--seed <n>', 'seed of every random choice', integer, 1)
  .addOption(new Option('--broker <kind>', 'the broker backend').choices(BROKERS).default('single'))
  .option('--gateways <n>', 'gateway processes', positive, 3)
  .option('--clients <n>', 'clients at any time', positive, 8)
  .option('--faults-per-kind <n>', 'faults of each kind per 10 minutes', positive, 55)
  .option(
    '--bound-ms <n>',
    'how long clients may take to converge after the faults',
    positive,
    20_000,
  )
  .option(
    '--out <dir>',
    'where history, logs, report and chart go (default soak/results/tmp/<time>)',
  )
  .option('--check <file>', 'only check a recorded history.jsonl')
  .option(
    '--faults <kinds>',
    'only these fault kinds, comma-separated (default: all the broker has)',
    list,
  )
  .parse();

interface Opts {
  minutes: number;
  seed: number;
  broker: BrokerName;
  gateways: number;
  clients: number;
  faultsPerKind: number;
  boundMs: number;
  out?: string;
  check?: string;
  faults?: string[];
}

function parseKinds(names: readonly string[]): FaultKind[] {
  const known: readonly string[] = ALL_FAULT_KINDS;
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length > 0)
    throw new Error(`--faults: unknown ${unknown.join(', ')} (known: ${known.join(', ')})`);
  return names as FaultKind[];
}

async function main(): Promise<number> {
  const o = program.opts<Opts>();
  if (o.check !== undefined) {
    const history = parseHistory(readFileSync(o.check, 'utf8'));
    const violations = check(history);
    for (const v of violations) say(describeViolation(v, history));
    const faults = history.filter((e) => e.k === 'fault' && e.phase === 'start').length;
    const messages = history.filter(
      (e) => e.k === 'ok' && (e.op === 'send' || e.op === 'dm'),
    ).length;
    say(`SOAK faults=${faults} messages=${messages} violations=${violations.length}`);
    return violations.length === 0 ? 0 : 1;
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  // Absolute: the Redis processes it starts do not run in this directory.
  const dir = resolve(o.out ?? join('soak', 'results', 'tmp', `${stamp}-seed${o.seed}`));
  const run = await runSoak({
    ...o,
    dir,
    log: say,
    ...(o.faults === undefined ? {} : { kinds: parseKinds(o.faults) }),
  });
  const f = figures(run.history);
  const described = run.violations.map((v) => describeViolation(v, run.history));
  for (const text of described) say(text);
  const title = `Soak ${o.minutes} min, seed ${o.seed}, ${o.broker}: ${run.violations.length} violations`;
  writeFileSync(join(dir, 'chart.png'), soakChartPng(f, title));
  const report = reportMarkdown(run, f, { ...o, chart: 'chart.png', violations: described });
  writeFileSync(join(dir, 'report.md'), report);
  for (const [kind, count] of [...run.faults].sort()) say(`fault ${kind}: ${count}`);
  for (const error of run.faultErrors) say(`fault error: ${error}`);
  say(
    `sends ${f.issued}, acked ${f.acked} (${(f.availability * 100).toFixed(1)}%); report ${join(dir, 'report.md')}`,
  );
  const faults = [...run.faults.values()].reduce((a, b) => a + b, 0);
  say(`SOAK faults=${faults} messages=${run.messages} violations=${run.violations.length}`);
  return run.violations.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`soak: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
