import { startSentinelGroup, type SentinelGroup } from '@chat/test-support';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_ROOM_STORAGE, type AppendOutcome } from '../../src/broker/bus';
import { BrokerSettlingError } from '../../src/broker/errors';
import { RedisBackend } from '../../src/broker/redis/redis-backend';
import { RedisBus } from '../../src/broker/redis/redis-bus';
import { RedisState } from '../../src/broker/redis/redis-state';
import { createLogger } from '../../src/logger';
import { draft, storeWhenSettled } from '../contract/bus-contract';

/**
 * Behind Sentinel a node learns that its master changed by asking the server it reconnected to
 * (INFO, on `ready`). A room append issued in that moment, before the answer is back, would run
 * on the promoted replica in the data generation the promotion may have rolled back, and give a
 * lost position again in the same epoch. Fenced writes wait for the answer (BrokerFence
 * .serverUnknown); then the node suspects the new master and its check-in starts a generation.
 */
const TTL = 60_000;
const SETTLE_MS = 200;

let group: SentinelGroup | undefined;
let bus: RedisBus | undefined;

afterEach(async () => {
  await bus?.close();
  bus = undefined;
  await group?.close();
  group = undefined;
});

describe('a Sentinel promotion and the appends issued as the node reconnects', () => {
  it('an append issued the moment the connection reaches the new master is refused, and the next one starts a new epoch', async () => {
    group = await startSentinelGroup();
    const logger = createLogger('test', 'silent');
    const redis = new RedisBackend({
      target: {
        kind: 'sentinel',
        sentinels: group.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })),
        master: group.masterName,
      },
      prefix: 'order',
      commandTimeoutMs: 2_000,
      logger,
    });
    const opened = new RedisBus(redis, { historyLimit: 100, ...DEFAULT_ROOM_STORAGE, logger });
    bus = opened;
    const state = new RedisState(redis);
    const up = new Promise<void>((resolve) =>
      opened.setHandler({ envelope: () => undefined, down: () => undefined, resumed: resolve }),
    );
    redis.connect();
    await up;
    await state.checkIn('n', 'n:1', TTL, { expected: '', settleMs: SETTLE_MS });
    const before = await storeWhenSettled(opened, 'lobby', 'before', 15_000);

    // The node's own listener on the command connection: runs right after the link's, which
    // has just asked the server who it is and has no answer yet.
    const commands = await redis.call((client) => Promise.resolve(client));
    const early = new Promise<AppendOutcome | Error>((resolve) => {
      commands.once('ready', () => {
        opened.append(draft('lobby', 'early')).then(resolve, (error: Error) => resolve(error));
      });
    });
    const promoted = group.promoted();
    await group.master.crash();
    await promoted;
    const outcome = await early;
    // Refused, nothing stored: had it run, the promoted replica would have given it a position
    // of the old generation.
    expect(outcome).toBeInstanceOf(BrokerSettlingError);

    // Once the answer is in, the node suspects the new master: fenced writes wait for its
    // check-in (`forgot`), which starts a generation; the room's next append starts a new epoch.
    await vi.waitFor(async () => {
      await expect(opened.append(draft('lobby', 'suspected'))).rejects.toMatchObject({
        why: 'forgot',
      });
    });
    const found = await state.checkIn('n', 'n:2', TTL, { expected: 'n:1', settleMs: SETTLE_MS });
    expect(found.suspected).toMatch(/redis master changed/);
    const after = await storeWhenSettled(opened, 'lobby', 'after', 15_000);
    expect(after.epoch).not.toBe(before.epoch);
    const range = await opened.range('lobby', 0, 10);
    expect(range.messages.map((m) => m.text)).toEqual(['after']);
  }, 90_000);
});
