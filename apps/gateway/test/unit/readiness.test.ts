import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BrokerUnavailableError } from '../../src/broker/errors';
import { MemoryBroker } from '../../src/broker/memory/memory-broker';
import { MemoryBus } from '../../src/broker/memory/memory-bus';
import { Readiness } from '../../src/cluster/readiness';

/** A bus whose writes a test can make Redis-like refusals of. */
class RefusingBus extends MemoryBus {
  refusal: string | undefined;
  override async probeWrite(): Promise<void> {
    if (this.refusal !== undefined) throw new BrokerUnavailableError(new Error(this.refusal));
  }
}

function setup() {
  const lines: { msg: string; reason?: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as { msg: string; reason?: string });
      done();
    },
  });
  const bus = new RefusingBus(new MemoryBroker());
  const readiness = new Readiness({
    bus,
    nodeId: 'n1',
    logger: pino({ level: 'info' }, sink),
    isFull: () => false,
    intervalMs: 100,
  });
  bus.setHandler({
    envelope: (envelope) => envelope.type === 'canary' && readiness.received(),
    down: () => undefined,
    resumed: () => undefined,
  });
  return { bus, readiness, lines };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Readiness', () => {
  it('says why it is not ready, and logs each change once, not every period', async () => {
    vi.useFakeTimers();
    const { bus, readiness, lines } = setup();
    readiness.start();
    await vi.advanceTimersByTimeAsync(250);
    expect(readiness.report()).toMatchObject({ ready: true });

    bus.refusal = "OOM command not allowed when used memory > 'maxmemory'.";
    await vi.advanceTimersByTimeAsync(1_000);
    expect(readiness.report()).toMatchObject({
      ready: false,
      reason: "redis refuses writes: OOM command not allowed when used memory > 'maxmemory'.",
    });
    bus.refusal = "READONLY You can't write against a read only replica.";
    await vi.advanceTimersByTimeAsync(1_000);
    bus.refusal = undefined;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(readiness.report()).toMatchObject({ ready: true });
    readiness.close();

    expect(lines.map((l) => [l.msg, l.reason?.split(' ').slice(0, 4).join(' ')])).toEqual([
      ['ready', undefined],
      ['not ready', 'redis refuses writes: OOM'],
      ['not ready', 'redis refuses writes: READONLY'],
      ['ready', undefined],
    ]);
  });
});
