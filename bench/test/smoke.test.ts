import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { benchText, parseBenchText } from '../src/generator/protocol';
import {
  mergeHistograms,
  encodeHistogram,
  newHistogram,
  percentiles,
  recordMs,
} from '../src/histogram';
import { makePlan } from '../src/plan';
import { niceRate } from '../src/sweep';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('bench pieces', () => {
  it('round-trips the bench id and scheduled time through a message text', () => {
    const text = benchText(7, 1, 12345, 98765.4321, 64);
    expect(text).toHaveLength(64);
    expect(parseBenchText(text)).toEqual({ step: 7, gen: 1, k: 12345, scheduled: 98765.432 });
    expect(parseBenchText('hello')).toBeUndefined();
  });

  it('merges histograms from several generators', () => {
    const a = newHistogram();
    const b = newHistogram();
    for (let i = 1; i <= 99; i++) recordMs(a, i / 10);
    recordMs(b, 500);
    const merged = percentiles(mergeHistograms([encodeHistogram(a), encodeHistogram(b)]));
    expect(merged.count).toBe(100);
    expect(merged.p50).toBeCloseTo(5, 1);
    expect(merged.max).toBeCloseTo(500, 0);
  });

  it('places rooms spread over nodes or local to one, and counts expected deliveries', () => {
    const urls = ['a', 'b', 'c'];
    const spread = makePlan(
      { rooms: 2, roomSize: 4, nodes: 3, generators: 2, placement: 'spread', slowPerRoom: [1] },
      urls,
    );
    expect(spread.clients).toHaveLength(8);
    expect(new Set(spread.clients.filter((c) => c.roomIdx === 0).map((c) => c.node)).size).toBe(3);
    expect(spread.expectedPerRoom).toEqual([3, 3]);
    expect(spread.expectedPerRoomSlow).toEqual([2, 3]);
    expect(spread.sendersPerGen.reduce((x, y) => x + y, 0)).toBe(7);
    const local = makePlan(
      { rooms: 3, roomSize: 2, nodes: 3, generators: 1, placement: 'local' },
      urls,
    );
    expect(local.roomsOfNode.map((rooms) => [...rooms])).toEqual([[0], [1], [2]]);
  });

  it('rounds sweep rates to two significant digits', () => {
    expect(niceRate(1414.2)).toBe(1400);
    expect(niceRate(707)).toBe(710);
    expect(niceRate(33)).toBe(33);
  });
});

describe('npm run bench -- --smoke', () => {
  // Starts Redis, every system and the generators for real: it works, whatever the speed.
  it('delivers every message exactly once on every system and prints the RATIO line', async () => {
    const { code, stdout, stderr } = await new Promise<{
      code: number;
      stdout: string;
      stderr: string;
    }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'bench/src/main.ts', '--smoke'],
        { cwd: ROOT, timeout: 150_000, maxBuffer: 16 << 20 },
        (error, out, err) =>
          resolve({ code: error ? Number(error.code ?? 1) : 0, stdout: out, stderr: err }),
      );
    });
    const lines = stdout.trim().split('\n');
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    expect(stdout).toContain('smoke: ok');
    expect(lines.at(-1)).toMatch(
      /^RATIO throughput_vs_socketio_redis_adapter=\d+\.\d\d p99_vs_socketio_redis_adapter=\d+\.\d\d cpu_vs_socketio_redis_adapter=\d+\.\d\d$/,
    );
  });
});
