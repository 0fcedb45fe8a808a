import { describe, expect, it } from 'vitest';
import { scriptArgs } from '../src/redis';
import { ratioLine } from '../src/report';
import { runAgain, Search } from '../src/sweep';

/** Runs a search against a fixed verdict per rate; returns the rates it tried, in order. */
function run(passes: (rate: number) => boolean, bisections = 2, maxRate = 64_000): number[] {
  const search = new Search({ startRate: 250, maxRate, bisections });
  const tried: number[] = [];
  while (search.next !== undefined && tried.length < 50) {
    const rate = search.next;
    tried.push(rate);
    search.record(rate, passes(rate));
  }
  return tried;
}

describe('the saturation search', () => {
  it('doubles while passing, then bisects between the last pass and the first failure', () => {
    expect(run((r) => r <= 1_000)).toEqual([250, 500, 1_000, 2_000, 4_000, 1_400, 1_200]);
  });

  it('goes on past one failing step when the next rate passes', () => {
    // 500 failed once (the machine was busy); 1,000 and 2,000 pass, 4,000 and 8,000 do not.
    const tried = run((r) => r !== 500 && r <= 2_000);
    expect(tried.slice(0, 6)).toEqual([250, 500, 1_000, 2_000, 4_000, 8_000]);
    expect(tried.slice(6)).toEqual([2_800, 2_400]);
  });

  it('stops doubling at the first of two failures in a row', () => {
    expect(run((r) => r <= 250)).toEqual([250, 500, 1_000, 350, 300]);
  });

  it('halves when even the first rates fail', () => {
    expect(run((r) => r <= 100)).toEqual([250, 500, 130, 65, 92, 110]);
  });

  it('never offers more than the maximum rate', () => {
    expect(run((r) => r !== 1_000, 2, 2_000)).toEqual([250, 500, 1_000, 2_000]);
  });

  it('takes fixed rates as given, pass or fail', () => {
    const search = new Search({ startRate: 250, maxRate: 64_000, bisections: 2, rates: [3, 1] });
    expect(search.next).toBe(3);
    search.record(3, false);
    expect(search.next).toBe(1);
    search.record(1, true);
    expect(search.next).toBeUndefined();
  });
});

describe('a step measured while the machine was busy', () => {
  const noise = { cores: 0.25, retries: 1, waitMs: 0, until: 10_000 };

  it('is run again when it failed while other processes used more than the limit', () => {
    expect(runAgain({ pass: false, otherCores: 0.29 }, noise, 0, 0)).toBe(true);
  });

  it('counts as it is when it passed, the machine was quiet, retries ran out or time is up', () => {
    expect(runAgain({ pass: true, otherCores: 0.9 }, noise, 0, 0)).toBe(false);
    expect(runAgain({ pass: false, otherCores: 0.1 }, noise, 0, 0)).toBe(false);
    expect(runAgain({ pass: false, otherCores: 0.9 }, noise, 1, 0)).toBe(false);
    expect(runAgain({ pass: false, otherCores: 0.9 }, noise, 0, 10_001)).toBe(false);
  });
});

describe('the RATIO line', () => {
  it('keeps its first two figures and adds CPU per delivery as the third', () => {
    const line = ratioLine({
      throughput: 3.456,
      p99: 0.8,
      cpuPerDelivery: 0.912,
      perCpuVsMemory: 0.5,
      equalRate: 700,
    });
    expect(line).toBe(
      'RATIO throughput_vs_socketio_redis_adapter=3.46 p99_vs_socketio_redis_adapter=0.80 cpu_vs_socketio_redis_adapter=0.91',
    );
    expect(ratioLine(undefined)).toBe(
      'RATIO throughput_vs_socketio_redis_adapter=nan p99_vs_socketio_redis_adapter=nan cpu_vs_socketio_redis_adapter=nan',
    );
  });
});

describe('the arguments of a script in the broker-ceiling step', () => {
  const source = [
    '-- demo',
    'local log = KEYS[1]',
    'local seq = KEYS[2]',
    'local draft = ARGV[1]',
  ].join('\n');

  it('are placed where the script header declares them', () => {
    expect(scriptArgs(source, { seq: 's', log: 'l', draft: 'd' })).toEqual({
      keys: ['l', 's'],
      argv: ['d'],
    });
  });

  it('must all be given', () => {
    expect(() => scriptArgs(source, { log: 'l', draft: 'd' })).toThrow(/KEYS\[2\] \(seq\)/);
  });
});
