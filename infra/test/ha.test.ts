import { describe, expect, it, vi } from 'vitest';
import { Chatter } from './support/chatter';
import type { ComposeProject } from './support/compose';
import { useProfileStack } from './support/compose';

/**
 * The `ha` profile as users start it (`docker compose --profile ha up --scale gateway=N`): a
 * master, a replica and three sentinels behind the gateways. Killing the master must promote
 * the replica, and the conversation goes on through the balancer without touching a gateway.
 */
const GATEWAYS = 2;
/** Delivery resumes this soon after the promotion (the gateways' promise). */
const FAILOVER_BOUND_MS = 10_000;

const stackOf = useProfileStack('ha', 'chat-gateway:e2e', GATEWAYS);

function eventually<T>(check: () => T | Promise<T>, timeout = 30_000): Promise<T> {
  return vi.waitFor(check, { timeout, interval: 100 });
}

function stack(): ComposeProject {
  return stackOf.project;
}

/** Where sentinel-1 says the master is (`redis` at first, `redis-replica` after a fail-over). */
async function masterHost(): Promise<string> {
  const { stdout } = await stack().compose(
    [
      'exec',
      '-T',
      'sentinel-1',
      'redis-cli',
      '-p',
      '26379',
      'sentinel',
      'get-master-addr-by-name',
      'mymaster',
    ],
    20_000,
  );
  return stdout.split('\n')[0]?.trim() ?? '';
}

/** What sentinel-1 knows of `mymaster`: its replicas and the other sentinels (SENTINEL ...). */
async function sentinelSees(what: 'replicas' | 'sentinels'): Promise<number> {
  const { stdout } = await stack().compose(
    ['exec', '-T', 'sentinel-1', 'redis-cli', '-p', '26379', 'sentinel', what, 'mymaster'],
    20_000,
  );
  // redis-cli prints one `name` field per entry.
  return stdout.split('\n').filter((line) => line.trim() === 'name').length;
}

/** Sends until acked: refusals while there is no master are retryable, and the cid dedupes. */
function say(chatter: Chatter, text: string): Promise<unknown> {
  return eventually(() => chatter.send(text));
}

describe('compose profile ha: master, replica, three sentinels', () => {
  it('promotes the replica when the master is killed, and messages flow again within 10 s', async () => {
    const ann = await Chatter.connect(stackOf.url, 'ann');
    const ben = await Chatter.connect(stackOf.url, 'ben');
    stackOf.closeLater.push(ann, ben);
    expect(await masterHost()).toBe('redis');
    await say(ann, 'before the fail-over');
    await eventually(() => expect(ben.texts()).toEqual(['before the fail-over']));

    // A fail-over needs the sentinels to know the replica (found by INFO, every 10 s) and each
    // other (hello messages, every 2 s): killing the master before that would promote nobody.
    await eventually(async () => {
      expect(await sentinelSees('replicas')).toBe(1);
      expect(await sentinelSees('sentinels')).toBe(2);
    }, 60_000);
    const [master] = await stack().containers('redis');
    if (master === undefined) throw new Error('no redis container');
    await stack().kill(master.id);
    await eventually(async () => expect(await masterHost()).toBe('redis-replica'));
    const promotedAt = Date.now();

    await say(ann, 'after the fail-over');
    await eventually(() => expect(ben.texts()).toContain('after the fail-over'), FAILOVER_BOUND_MS);
    const resumedMs = Date.now() - promotedAt;
    process.stdout.write(
      `compose ha: delivery ${resumedMs} ms after sentinel-1 named the new master\n`,
    );
    expect(resumedMs).toBeLessThanOrEqual(FAILOVER_BOUND_MS);

    await say(ben, 'ben is still here');
    await eventually(() => expect(ann.texts()).toEqual(['ben is still here']));
    expect(ben.texts()).toEqual(['before the fail-over', 'after the fail-over']);
    // Nobody moved: both clients kept their connections through the fail-over.
    expect([ann.welcomes.length, ben.welcomes.length]).toEqual([1, 1]);
  });
});
