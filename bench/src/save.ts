import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { chartPng } from './chart';
import type { BenchOptions } from './options';
import { say } from './out';
import { latencyChart, markdown, type RunResult } from './report';

/**
 * Every run goes to bench/results/tmp/runs/<time>-<mode>.{json,md,png} (git-ignored). A
 * complete full run also becomes bench/results/latest.*, a complete quick run
 * bench/results/quick.*: those are the files to commit.
 */
export function saveRun(
  run: RunResult,
  options: BenchOptions,
  stamp: string,
  results: string,
): void {
  const runs = join(results, 'tmp/runs');
  mkdirSync(runs, { recursive: true });
  const base = join(runs, `${stamp}-${run.meta.mode}`);
  const charts: string[] = [];
  for (const scenario of [run.s1, run.s2]) {
    if (!scenario || options.mode === 'smoke') continue;
    const file = `${base}-${scenario.name}.png`;
    const subtitle = `${run.meta.mode} run ${run.meta.startedAt.slice(0, 16)}, ${run.meta.machine.cpus} cores`;
    writeFileSync(file, chartPng(latencyChart(scenario, subtitle)));
    charts.push(file);
  }
  writeFileSync(`${base}.json`, `${JSON.stringify(run, null, 1)}\n`);
  writeFileSync(
    `${base}.md`,
    markdown(
      run,
      charts.map((c) => basename(c)),
    ),
  );
  say(`results: ${base}.{json,md}${charts.length ? ` and ${charts.length} chart(s)` : ''}`);
  // Only complete runs become the committed `latest` (full) or `quick` results.
  if (options.custom || options.mode === 'smoke') return;
  const name = options.mode === 'full' ? 'latest' : 'quick';
  const latestCharts = charts.map((c) => `${name}-${basename(c).split('-').at(-1) ?? 's1.png'}`);
  charts.forEach((c, i) => copyFileSync(c, join(results, latestCharts[i] ?? `${name}.png`)));
  copyFileSync(`${base}.json`, join(results, `${name}.json`));
  writeFileSync(join(results, `${name}.md`), markdown(run, latestCharts));
  say(
    `copied to bench/results/${name}.{json,md}${latestCharts.length ? `, ${latestCharts.join(', ')}` : ''}`,
  );
}

/** Smoke mode checks that the harness works, not how fast anything is. */
export function smokeVerdict(run: RunResult): string[] {
  const problems: string[] = [];
  const steps = run.s1?.sweeps.flatMap((s) => s.steps) ?? [];
  if (steps.length === 0) problems.push('no step ran');
  for (const s of steps) {
    if (s.expected === 0 || s.delivered === 0) problems.push(`${s.system}: nothing delivered`);
    if (s.lost > 0) problems.push(`${s.system}: ${s.lost} of ${s.expected} deliveries lost`);
    if (s.duplicates > 0) problems.push(`${s.system}: ${s.duplicates} duplicate deliveries`);
    if (s.sendErrors > 0)
      problems.push(`${s.system}: ${s.sendErrors} sends refused ${JSON.stringify(s.errorCodes)}`);
    if (s.latency.count === 0) problems.push(`${s.system}: no latency recorded`);
  }
  return problems;
}
