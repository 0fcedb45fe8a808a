import { describe, expect, it, vi } from 'vitest';
import { FaultNotNow, type Broker, type BrokerFault } from '../src/brokers/broker';
import { FaultRunner } from '../src/faults';
import type { Fleet } from '../src/fleet';
import { Recorder } from '../src/history';
import { Rng } from '../src/rng';

/** A broker whose faults do what `outcomes` says, in turn: heal, fail midway, or not now. */
function scriptedBroker(outcomes: ('heal' | 'fail' | 'not-now')[]): Broker {
  return {
    name: 'scripted',
    faults: ['redis-kill'],
    proxied: false,
    start: () => Promise.resolve(),
    port: () => undefined,
    gatewayEnv: () => ({}),
    fault(_kind: BrokerFault, _rng: Rng, begin: () => void) {
      const outcome = outcomes.shift() ?? 'heal';
      if (outcome === 'not-now') return Promise.reject(new FaultNotNow('replica not in sync'));
      begin();
      if (outcome === 'fail') return Promise.reject(new Error('no replica of 1234 was promoted'));
      return Promise.resolve('healed');
    },
    snapshot: () => Promise.resolve(),
    stop: () => Promise.resolve(),
    abort: () => undefined,
  };
}

describe('the fault runner', () => {
  it('counts a fault that failed midway apart from the ones carried out, says why, and goes on with the next', async () => {
    const recorder = new Recorder();
    const runner = new FaultRunner({
      fleet: {} as Fleet,
      broker: scriptedBroker(['fail', 'not-now', 'heal', 'heal']),
      actors: () => [],
      recorder,
      rng: new Rng(1),
    });
    const plan = [0, 10, 20].map((at) => ({ at, kind: 'redis-kill' as const }));
    runner.start(plan, recorder.now());
    await vi.waitFor(() => expect(runner.done.get('redis-kill')).toBe(2), { timeout: 5_000 });
    await runner.stop();
    expect(runner.failed.get('redis-kill')).toBe(1);
    expect(runner.errors).toEqual(['redis-kill: no replica of 1234 was promoted']);
    expect(runner.total).toBe(2);
    // The failed one started (the history shows it) and healed when it gave up.
    const phases = recorder.entries.flatMap((e) => (e.k === 'fault' ? [e.phase] : []));
    expect(phases).toEqual(['start', 'heal', 'start', 'heal', 'start', 'heal']);
  });
});
