import { useGatewayCluster } from '@chat/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, eventually, refused, type TestClient } from '../support/client';
import { at } from '../support/cluster';
import { ResumingClient } from '../support/resuming-client';

const gateways = useGatewayCluster();
const closers: (() => void)[] = [];

afterEach(() => {
  for (const close of closers.splice(0)) close();
});

async function cluster(prefix: string, env: Record<string, string> = {}) {
  const started = await gateways.startMany(['g1', 'g2', 'g3'], { REDIS_PREFIX: prefix, ...env });
  return [at(started, 0), at(started, 1), at(started, 2)] as const;
}

async function client(url: string, name: string): Promise<TestClient> {
  const c = await connect(url, { name });
  closers.push(() => c.close());
  return c;
}

describe('a gateway that dies without a word (SIGKILL)', () => {
  it('has its users announced as left by exactly one survivor within 15 s, by default settings', async () => {
    const [g1, g2, g3] = await cluster('dead1');
    await client(g1.url, 'alice');
    await client(g1.url, 'bob');
    const carol = await client(g2.url, 'carol');
    const dave = await client(g3.url, 'dave');
    await eventually(() => expect(carol.lines).toEqual(expect.arrayContaining(['dave joined'])));
    const killedAt = Date.now();
    g1.kill('SIGKILL');
    for (const watcher of [carol, dave]) {
      await eventually(
        () => expect(watcher.lines).toEqual(expect.arrayContaining(['alice left', 'bob left'])),
        15_000,
      );
    }
    expect(Date.now() - killedAt).toBeLessThan(15_000);
    for (const watcher of [carol, dave]) {
      expect(watcher.lines.filter((l) => l === 'alice left' || l === 'bob left')).toHaveLength(2);
      expect(watcher.left.filter((n) => n.user.name === 'alice')).toEqual([
        { room: 'lobby', user: expect.objectContaining({ name: 'alice' }), reason: 'node-failure' },
      ]);
    }
    const who = await carol.request('who', {});
    expect(who).toMatchObject({ ok: true, members: [{ name: 'carol' }, { name: 'dave' }] });
    // The name is free again once the dead node's users' grace period (LEAVE_GRACE_MS) is over.
    let again: Awaited<ReturnType<typeof client>> | undefined;
    await eventually(async () => {
      again = await client(g2.url, 'alice');
    }, 10_000);
    expect(again?.welcome.user.name).toBe('alice');
    const reapers = [g2, g3].filter((g) => g.logs.some((l) => l.includes('reaped a dead node')));
    expect(reapers).toHaveLength(1);
  });
});

describe('graceful drain (SIGTERM)', () => {
  it('moves clients to another node without false leaves, goes unready, and exits in bound', async () => {
    const [g1, g2] = await cluster('drain1', { LEAVE_GRACE_MS: '3000', DRAIN_DELAY_MS: '1000' });
    const mover = new ResumingClient([g1.url, g2.url], 'mover');
    closers.push(() => mover.close());
    await mover.start();
    expect(mover.node).toBe('g1');
    const watcher = await client(g2.url, 'watcher');
    const talker = await client(g2.url, 'talker');
    const termAt = Date.now();
    g1.kill('SIGTERM');
    await eventually(async () => expect((await fetch(`${g1.url}/readyz`)).status).toBe(503));
    // Unready first (DRAIN_DELAY_MS), so a balancer stops routing here before clients move.
    expect(mover.node).toBe('g1');
    await eventually(() => expect(mover.node).toBe('g2'));
    await talker.send('after the move');
    await eventually(() => expect(mover.messages.map((m) => m.text)).toContain('after the move'));
    const { code } = await g1.exited;
    expect(code).toBe(0);
    expect(Date.now() - termAt).toBeLessThan(10_000 + 2_000);
    expect(watcher.lines.filter((l) => l.startsWith('mover'))).toEqual([]);
    expect(g1.logs.some((l) => l.includes('"msg":"drained"'))).toBe(true);
  });

  it('refuses new connections while draining with a retryable error', async () => {
    const [g1] = await cluster('drain2', { LEAVE_GRACE_MS: '3000' });
    const stay = await client(g1.url, 'stay');
    expect(stay.welcome.node).toBe('g1');
    g1.kill('SIGTERM');
    await eventually(async () => expect((await fetch(`${g1.url}/readyz`)).status).toBe(503));
    expect(await refused(g1.url, { name: 'late' })).toEqual({
      code: 'UNAVAILABLE',
      message: 'this node is shutting down; connect to another',
      retryable: true,
    });
  });
});
