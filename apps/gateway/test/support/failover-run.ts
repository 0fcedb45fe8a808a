import { stopProcesses, type GatewayProcess } from '@chat/test-support';
import type { Gap } from '@chat/protocol';
import { afterAll, expect } from 'vitest';
import { connect, eventually, type TestClient } from './client';
import { watchReadiness, type ReadySample } from './readiness-watch';
import { Traffic, type TrafficReport } from './traffic';

/** What a fail-over test started: ended after the suite (clients, gateways, then Redis). */
export interface FailoverFixture {
  redis: { close(): Promise<void> } | undefined;
  gateways: GatewayProcess[];
  clients: TestClient[];
}

export function useFailoverFixture(): FailoverFixture {
  const fixture: FailoverFixture = { redis: undefined, gateways: [], clients: [] };
  afterAll(async () => {
    for (const client of fixture.clients) client.close();
    await stopProcesses(fixture.gateways);
    await fixture.redis?.close();
  });
  return fixture;
}

/** What a fail-over under traffic did, as the clients and node 0's /readyz saw it. */
export interface FailoverOutcome {
  /** From the promotion to the first delivery of a message first tried after it. */
  failoverMs: number;
  report: TrafficReport;
  /** /readyz answers of node 0 that were 503, during the fail-over. */
  unready: ReadySample[];
  /** The measured numbers, printed for the README's guarantees table. */
  summary: Record<string, unknown>;
  clients: TestClient[];
  /** joined + left notices each client had before the failure. */
  noticesBefore: number[];
}

/**
 * Alice, bob and carol (one per gateway, in one room) talk continuously; `fail()` breaks the
 * broker and resolves to when the replica was promoted (Date.now()). Resolves once the talk went
 * on after the promotion and everything that can still arrive has. The clients are pushed to
 * `clients` as they connect, for the caller to close.
 */
export async function failoverUnderTraffic(
  label: string,
  gateways: readonly GatewayProcess[],
  fail: () => Promise<number>,
  boundMs: number,
  clients: TestClient[],
): Promise<FailoverOutcome> {
  const names = ['alice', 'bob', 'carol'];
  const byName = new Map<string, TestClient>();
  const gaps: Gap[] = [];
  for (const [i, name] of names.entries()) {
    const gateway = gateways[i];
    if (gateway === undefined) throw new Error(`no gateway ${i}`);
    const client = await connect(gateway.url, { name });
    client.socket.on('gap', (gap) => gaps.push(gap));
    clients.push(client);
    byName.set(name, client);
  }
  // Each client is told of everyone who connected after it (alice 2, bob 1, carol 0) before the
  // notices are counted; counting when only alice's had come raced bob's notice of carol.
  await eventually(() => {
    for (const [i, name] of names.entries()) {
      expect(byName.get(name)?.joined).toHaveLength(names.length - 1 - i);
    }
  });
  const noticesBefore = clients.map((c) => c.joined.length + c.left.length);

  const traffic = new Traffic(byName);
  await eventually(() => {
    for (const name of names) expect(traffic.received.get(name)?.length).toBeGreaterThan(40);
  });

  const readiness = watchReadiness(gateways[0]?.url ?? '');
  const killedAt = Date.now();
  const promotedAt = await fail();

  // The first message first tried after the promotion, delivered to anyone.
  const firstDelivery = () => {
    const fresh = new Set(
      traffic.sent.filter((s) => s.firstTriedAt >= promotedAt).map((s) => s.text),
    );
    const times = [...traffic.received.values()]
      .flat()
      .filter((r) => fresh.has(r.text))
      .map((r) => r.at);
    return times.length === 0 ? undefined : Math.min(...times);
  };
  await eventually(() => expect(firstDelivery()).toBeDefined(), boundMs + 5_000);
  const failoverMs = (firstDelivery() ?? Infinity) - promotedAt;

  // Keep talking a little after the fail-over, then let everything in flight land.
  const sentAtRecovery = traffic.sent.length;
  await eventually(() => expect(traffic.sent.length).toBeGreaterThan(sentAtRecovery + 300));
  await traffic.stop();
  await eventually(async () => {
    for (const g of gateways) expect((await fetch(`${g.url}/readyz`)).status).toBe(200);
  });
  await readiness.stop();
  // Whatever can still arrive does so within a second or two; what does not is lost.
  await eventually(() => {
    for (const name of names) expect(traffic.missing(name)).toEqual([]);
  }, 5_000).catch(() => undefined);

  const report = traffic.report();
  const unready = readiness.samples.filter((s) => s.status === 503);
  const summary = {
    promotionAfterKillMs: promotedAt - killedAt,
    firstDeliveryAfterPromotionMs: failoverMs,
    acked: report.acked,
    deliveriesOwed: report.owed,
    delivered: report.delivered,
    lost: report.lost.length,
    gapsReported: gaps,
    refusals: traffic.refusals,
    reusedSeqs: report.reusedSeqs.length,
    readyz503Reasons: [...new Set(unready.map((s) => s.reason?.split(' since ')[0]))],
  };
  process.stdout.write(`${label}: ${JSON.stringify(summary)}\n`);
  return { failoverMs, report, unready, summary, clients, noticesBefore };
}

/**
 * What every fail-over must show: delivery back within `boundMs` of the promotion, every acked
 * message delivered to every other client exactly once or counted lost, per-sender order, no
 * echo, no gateway restart, nobody announced as leaving or joining.
 */
export function expectCleanFailover(
  outcome: FailoverOutcome,
  gateways: readonly GatewayProcess[],
  boundMs: number,
): void {
  const { report, clients, noticesBefore } = outcome;
  expect(outcome.failoverMs).toBeLessThanOrEqual(boundMs);
  expect(report.duplicates).toEqual([]);
  expect(report.echoes).toEqual([]);
  expect(report.reordered).toEqual([]);
  expect(report.delivered + report.lost.length).toBe(report.owed);
  for (const g of gateways) expect(g.child.exitCode).toBeNull();
  expect(clients.map((c) => c.joined.length + c.left.length)).toEqual(noticesBefore);
  for (const c of clients) expect(c.left).toEqual([]);
}
