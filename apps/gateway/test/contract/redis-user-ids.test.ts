import { adminClient, useRedis } from '@chat/test-support';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { Bus } from '../../src/broker/bus';
import type { ClusterState } from '../../src/broker/cluster-state';
import { openRedisBroker } from '../support/redis';

/**
 * User ids on one Redis after it lost or rolled back its data, when no live node saw the data
 * before (every node that did has died): a new process's first check-in cannot find the loss,
 * yet no id handed out before comes back (NEXT_ID in scripts/fragments.ts). Clients keep their
 * ids across a loss, so an id given again would make a new user the old one's conversations.
 */
const redis = useRedis();
const open: Bus[] = [];
const TTL = 60_000;
let admin: Redis | undefined;

afterEach(async () => {
  admin?.disconnect();
  admin = undefined;
  await Promise.all(open.splice(0).map((bus) => bus.close()));
});

/** A gateway process's broker on `prefix`, checked in for the first time as `node`. */
async function freshNode(prefix: string, node: string): Promise<ClusterState> {
  const { bus, state } = await openRedisBroker(redis.url, prefix);
  open.push(bus);
  await state.checkIn(node, `${node}:1`, TTL, { expected: '', settleMs: 50 });
  return state;
}

/** `count` new anonymous users' ids. */
async function allocate(state: ClusterState, count: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < count; i++) ids.push(await state.nextUserId());
  return ids;
}

function prefix(): string {
  return `u${Math.random().toString(36).slice(2, 8)}`;
}

describe('user ids after Redis lost its data, with no live node that saw it before', () => {
  it('a process started after FLUSHALL hands out no id given before, to a new user or a new subject', async () => {
    const keys = prefix();
    const before = await allocate(await freshNode(keys, 'old'), 3);
    before.push(await (await freshNode(keys, 'old2')).subjectUserId('sub-a'));
    await Promise.all(open.splice(0).map((bus) => bus.close()));
    admin = adminClient(redis.url);
    await admin.flushall();

    const state = await freshNode(keys, 'new');
    const after = [...(await allocate(state, 3)), await state.subjectUserId('sub-b')];
    expect(Math.min(...after)).toBeGreaterThan(Math.max(...before));
    expect(new Set(after).size).toBe(after.length);
  });

  it('a process started after a restart from an older snapshot hands out no id given after the snapshot', async () => {
    const keys = prefix();
    const old = await freshNode(keys, 'old');
    await allocate(old, 2);
    // The snapshot: the counter as it was here; the ids below were handed out after it.
    admin = adminClient(redis.url);
    const counter = `${keys}:users:next`;
    const snapshot = await admin.get(counter);
    expect(snapshot).not.toBeNull();
    const lost = await allocate(old, 3);
    await Promise.all(open.splice(0).map((bus) => bus.close()));
    await admin.set(counter, snapshot ?? '');

    const after = await allocate(await freshNode(keys, 'new'), 3);
    expect(Math.min(...after)).toBeGreaterThan(Math.max(...lost));
  });
});
