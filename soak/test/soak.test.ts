import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireRedisBinaries } from '@chat/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeViolation } from '../src/checker/format';
import { ALL_FAULT_KINDS } from '../src/faults';
import { runSoak } from '../src/run';

// The soak as CI runs it: a fixed seed, 60 s of faults on one Redis, and no violation allowed. Then the soak's own check: a gateway with a deliberate bug must be caught.

let dir: string;
beforeAll(() => {
  requireRedisBinaries();
  dir = mkdtempSync(join(tmpdir(), 'soak-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the chaos soak', () => {
  // Every kind one Redis has, Redis losing its data (restart empty or from an older snapshot)
  // included (`failover` needs Sentinel or a Cluster).
  const kinds = ALL_FAULT_KINDS.filter((k) => k !== 'failover');

  it('runs 60 s of random faults (seed 1) on one Redis without a violation', async () => {
    const run = await runSoak({
      minutes: 1,
      seed: 1,
      broker: 'single',
      dir: join(dir, 'ci'),
      kinds,
    });
    const described = run.violations.map((v) => describeViolation(v, run.history));
    expect(described).toEqual([]);
    expect(run.faultErrors).toEqual([]);
    // Every kind happened, and the chat did work meanwhile.
    expect([...run.faults.values()].every((n) => n >= 5)).toBe(true);
    expect([...run.faults.keys()].sort()).toEqual([...kinds].sort());
    expect(run.messages).toBeGreaterThan(50);
  });

  it('catches a gateway that stores a retried send twice (test-only switch: no cid dedupe)', async () => {
    const run = await runSoak({
      minutes: 0.4,
      seed: 7,
      broker: 'single',
      dir: join(dir, 'bug'),
      // Slow links make acks time out, so clients retry sends the gateway already stored.
      kinds: ['client-latency', 'client-stall'],
      faultsPerKind: 300,
      gatewayEnv: { CHAT_TEST_INJECT_BUG: 'skip-cid-dedupe' },
    });
    const kinds = new Set(run.violations.map((v) => v.kind));
    expect(kinds).toContain('stored-twice');
  });
});
