import { describe, expect, it, vi } from 'vitest';
import { Chatter } from './support/chatter';
import type { ComposeProject } from './support/compose';
import { useProfileStack } from './support/compose';

/**
 * The `cluster` profile as users start it (`docker compose --profile cluster up --scale
 * gateway=N`): a Redis Cluster of 3 masters and 3 replicas behind the gateways. The room's
 * traffic is on one shard's sharded channel; killing that shard's master promotes its replica
 * and the conversation goes on through the balancer without touching a gateway.
 */
const GATEWAYS = 3;
/** Delivery resumes this soon after the promotion (the gateways' promise). */
const FAILOVER_BOUND_MS = 15_000;
const NODES = [1, 2, 3, 4, 5, 6].map((n) => `redis-node-${n}`);
const LOBBY = 'chat#room#lobby#';

const stackOf = useProfileStack('cluster', 'chat-gateway:cluster-e2e', GATEWAYS);

function eventually<T>(check: () => T | Promise<T>, timeout = 30_000): Promise<T> {
  return vi.waitFor(check, { timeout, interval: 100 });
}

function stack(): ComposeProject {
  return stackOf.project;
}

async function redisCli(node: string, ...args: string[]): Promise<string> {
  const { stdout } = await stack().compose(['exec', '-T', node, 'redis-cli', ...args], 20_000);
  return stdout.trim();
}

/** Gateways subscribed to the lobby's sharded channel, per cluster node (only its shard's master has any). */
async function lobbySubscribers(): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const node of NODES) {
    const reply = await redisCli(node, 'pubsub', 'shardnumsub', LOBBY).catch(() => '');
    counts.set(node, Number(reply.split('\n')[1] ?? 0));
  }
  return counts;
}

/** The host name of `master`'s replica (CLUSTER NODES: `id ip:port@bus,host flags master-id ...`). */
async function replicaOf(master: string): Promise<string> {
  const id = await redisCli(master, 'cluster', 'myid');
  const row = (await redisCli(master, 'cluster', 'nodes'))
    .split('\n')
    .map((line) => line.split(' '))
    .find((fields) => fields[3] === id);
  const host = row?.[1]?.split(',')[1];
  if (host === undefined) throw new Error(`no replica of ${master}`);
  return host;
}

describe('compose profile cluster: 3 masters, 3 replicas', () => {
  it("carries the room on its shard's sharded channel, and follows a killed master's replica within 15 s", async () => {
    const ann = await Chatter.connect(stackOf.url, 'ann');
    const ben = await Chatter.connect(stackOf.url, 'ben');
    stackOf.closeLater.push(ann, ben);
    await ann.send('before the fail-over');
    await eventually(() => expect(ben.texts()).toEqual(['before the fail-over']));

    // The gateways talk through the cluster: one shard holds the lobby's subscribers.
    const before = await lobbySubscribers();
    const owners = [...before].filter(([, count]) => count > 0);
    expect(owners).toHaveLength(1);
    const [owner] = owners[0] ?? [];
    if (owner === undefined) throw new Error('no shard serves the lobby');
    const replica = await replicaOf(owner);
    const [container] = await stack().containers(owner);
    if (container === undefined) throw new Error(`no ${owner} container`);
    await stack().kill(container.id);
    await eventually(async () => expect(await redisCli(replica, 'role')).toMatch(/^master/));
    const promotedAt = Date.now();

    await eventually(() => ann.send('after the fail-over'));
    await eventually(() => expect(ben.texts()).toContain('after the fail-over'), FAILOVER_BOUND_MS);
    const resumedMs = Date.now() - promotedAt;
    process.stdout.write(`compose cluster: delivery ${resumedMs} ms after the promotion\n`);
    expect(resumedMs).toBeLessThanOrEqual(FAILOVER_BOUND_MS);
    expect(ben.texts()).toEqual(['before the fail-over', 'after the fail-over']);
    // The gateways followed: the promoted replica holds the lobby's subscribers now.
    const after = [...(await lobbySubscribers())].filter(([, count]) => count > 0);
    expect(after.map(([node]) => node)).toEqual([replica]);
    // Nobody moved: both clients kept their connections through the fail-over.
    expect([ann.welcomes.length, ben.welcomes.length]).toEqual([1, 1]);
  });
});
