import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { startSentinelGroup, type SentinelGroup } from '../src/sentinel-group';

let group: SentinelGroup | undefined;
afterAll(async () => {
  await group?.close();
});

describe('startSentinelGroup', () => {
  it('starts a master, a replica and 3 sentinels that promote the replica when the master dies', async () => {
    group = await startSentinelGroup({ password: 'group-secret' });
    const admin = new Redis({ port: group.master.port, password: 'group-secret' });
    expect(await admin.set('k', 'v')).toBe('OK');
    await admin.call('WAIT', '1', '1000');
    admin.disconnect();

    const promoted = group.promoted();
    await group.master.crash();
    const promotion = await promoted;
    expect(promotion).toMatchObject({ fromPort: group.master.port, toPort: group.replica.port });

    const replica = new Redis({ port: group.replica.port, password: 'group-secret' });
    expect(await replica.get('k')).toBe('v');
    expect(await replica.call('ROLE')).toEqual(expect.arrayContaining(['master']));
    replica.disconnect();
  });
});
