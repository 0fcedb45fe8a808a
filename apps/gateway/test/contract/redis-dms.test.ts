import { adminClient, useRedis } from '@chat/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/create-broker';
import { conversationId } from '../../src/broker/dm-store';
import type { DmDraft } from '../../src/broker/envelope';
import { BrokerSettlingError } from '../../src/broker/errors';
import { ARCHIVE_URL, openRedisBroker } from '../support/redis';
import { dmStoreContract } from './dm-store-contract';

const redis = useRedis();
const open: Broker[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((b) => Promise.all([b.bus.close(), b.state.close()])));
});

dmStoreContract('RedisDms', async ({ limit, ttlMs, archived }) => {
  const prefix = `d${Math.random().toString(36).slice(2, 8)}`;
  const broker = await openRedisBroker(redis.url, prefix, {
    dmHistoryLimit: limit,
    roomTtlMs: ttlMs,
    ...(archived === true && { databaseUrl: ARCHIVE_URL }),
  });
  open.push(broker);
  return { store: broker.dms, bus: broker.bus };
});

describe('RedisDms and the broker fence', () => {
  it("answers no retried DM from a Redis that lost data since this node's check-in: refused, nothing stored", async () => {
    const prefix = `d${Math.random().toString(36).slice(2, 8)}`;
    const broker = await openRedisBroker(redis.url, prefix);
    open.push(broker);
    const admin = adminClient(redis.url);
    try {
      await broker.state.checkIn('n1', 'n1:1', 60_000);
      const dm: DmDraft = {
        v: 1,
        type: 'dm',
        origin: 'n1',
        conversation: conversationId(1, 2),
        id: 'dm-1',
        from: { id: 1, name: 'alice' },
        to: { id: 2, name: 'bob' },
        sid: 's1',
        text: 'psst',
        ts: Date.now(),
      };
      expect(await broker.dms.append(dm, { cid: 'c1' })).toEqual({ status: 'stored', seq: 1 });
      // Redis loses everything of ours: the node's mark with the DM's cid record.
      const keys = await admin.keys(`${prefix}:*`);
      await admin.del(...keys);
      await expect(broker.dms.append({ ...dm, id: 'dm-2' }, { cid: 'c1' })).rejects.toBeInstanceOf(
        BrokerSettlingError,
      );
      expect((await broker.dms.page(dm.conversation, 0, 10)).head).toBe(0);
    } finally {
      admin.disconnect();
    }
  });
});
