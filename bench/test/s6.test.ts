import { describe, expect, it } from 'vitest';
import { latest } from '../src/fleet';
import { makePlan } from '../src/plan';
import { s6Markdown, type S6Row } from '../src/s6-report';

describe('S6 plans', () => {
  const urls = ['a', 'b', 'c'];
  const plan = makePlan(
    {
      rooms: 2,
      roomSize: 6,
      nodes: 3,
      generators: 2,
      placement: 'spread',
      quietNodes: [0],
      sources: 4,
      failover: true,
    },
    urls,
  );

  it('keeps the clients of the node to be killed from sending', () => {
    expect(plan.clients.filter((c) => c.node === 0).every((c) => !c.sender)).toBe(true);
    expect(plan.clients.filter((c) => c.node !== 0).every((c) => c.sender)).toBe(true);
    expect(plan.sendersPerGen.reduce((a, b) => a + b, 0)).toBe(8);
  });

  it('deals the clients over several loopback source addresses', () => {
    expect(new Set(plan.clients.map((c) => c.localAddress))).toEqual(
      new Set(['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4']),
    );
  });

  it('gives every client the other nodes to come back to', () => {
    for (const client of plan.clients) {
      expect(client.fallbackUrls).toEqual(urls.filter((u) => u !== client.url));
    }
  });

  it('leaves ordinary plans as they were', () => {
    const plain = makePlan({ rooms: 1, roomSize: 2, nodes: 1, generators: 1, placement: 'local' }, [
      'a',
    ]);
    expect(plain.clients[0]).not.toHaveProperty('localAddress');
    expect(plain.clients[0]).not.toHaveProperty('fallbackUrls');
  });
});

describe('the time the last client came back', () => {
  it('is the latest over the generators, none counting as not yet', () => {
    expect(latest(Number.NaN, Number.NaN)).toBeNaN();
    expect(latest(Number.NaN, 5)).toBe(5);
    expect(latest(7, Number.NaN)).toBe(7);
    expect(latest(7, 5)).toBe(7);
  });
});

describe('the S6 tables', () => {
  it('show a room that never filled and a storm where clients gave up as such', () => {
    const row: S6Row = {
      system: 'ours',
      clients: 10_000,
      idle: {
        connectMs: 5_000,
        connectPerSec: 2_000,
        rssKbPerConnection: 20.04,
        rssMb: 300,
        trickleP99: 5,
        cpuUsPerDelivery: 40,
        lost: 0,
      },
      broadcast: { joinMs: 300_000, p50: Number.NaN, p99: Number.NaN, last: Number.NaN },
      storm: {
        moved: 3_334,
        backMs: Number.NaN,
        reconnected: 3_300,
        gaveUp: 34,
        lost: 0,
        duplicates: 0,
        slowRedisCalls: 0,
      },
    };
    const text = s6Markdown([row], 10_000);
    expect(text).toContain('| ours | 10,000 | 2,000 | 20.0 | 300 | 5.00 | 40.0 |');
    expect(text).toContain('| ours | 300.0 | – | – | – | – |');
    expect(text).toContain('| ours | 10,000 | 3,334 | – | 34 | 0 | 0 | 0 |');
  });
});
