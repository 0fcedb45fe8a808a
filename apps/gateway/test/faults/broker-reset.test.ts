import { adminClient, useRestartableRedis } from '@chat/test-support';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, eventually, refused, renewals, texts, type TestClient } from '../support/client';
import {
  converse,
  expectPositionsUnique,
  notices,
  othersOf,
  prefixOf,
  sendUntilStored,
  type Sender,
} from '../support/reset-checks';
import { at, redisCluster, stopAll, type RunningGateway } from '../support/cluster';
import { ResumingClient } from '../support/resuming-client';

/**
 * Redis that loses its data (restarted empty, FLUSHALL) or comes back older (restored from a
 * snapshot) under three live gateways. Each test asserts what users see: no false notices,
 * names and ids still unique, every message at most once and never two under one position,
 * and what the broker lost reported to the clients that missed it.
 */

/** Fast lease rounds (500 ms), so a node notices a reset soon; a grace period for the drain. */
/**
 * HISTORY_MEMORY_KB 0: history comes from the log, which is what these tests are about (a node
 * that still holds lost messages in memory serves them; test/integration/history-storm.test.ts).
 */
const ENV = {
  LEAVE_GRACE_MS: '3000',
  NODE_TTL_MS: '2000',
  DRAIN_TIMEOUT_MS: '8000',
  HISTORY_MEMORY_KB: '0',
};

describe('Redis that loses or rolls back its data under three gateways', () => {
  const redis = useRestartableRedis();
  let nodes: RunningGateway[] = [];
  let admin: Redis | undefined;
  const closers: (() => void)[] = [];

  afterEach(async () => {
    for (const close of closers.splice(0)) close();
    admin?.disconnect();
    await stopAll(nodes);
    nodes = [];
  });

  /**
   * Saves Redis' data as it is now; the function returned brings it back (`DEBUG RELOAD`) once
   * every node has checked in since the save, so each can see the rollback (one younger than a
   * lease round leaves the marks as written and is not seen).
   */
  async function saveSnapshot(admin: Redis, prefix: string): Promise<() => Promise<void>> {
    const dir = String(((await admin.call('CONFIG', 'GET', 'dir')) as string[])[1]);
    await admin.call('SAVE');
    const copied = await redis.container.exec(['cp', `${dir}/dump.rdb`, `${dir}/old.rdb`]);
    expect(copied.exitCode).toBe(0);
    const markKeys = nodes.map((n) => `${prefix}:mark:${n.nodeId}`);
    const marksAtSave = await Promise.all(markKeys.map((key) => admin.get(key)));
    return async () => {
      await eventually(async () => {
        const now = await Promise.all(markKeys.map((key) => admin.get(key)));
        now.forEach((mark, i) => expect(mark).not.toBe(marksAtSave[i]));
      });
      const restored = await redis.container.exec(['cp', `${dir}/old.rdb`, `${dir}/dump.rdb`]);
      expect(restored.exitCode).toBe(0);
      await admin.call('DEBUG', 'RELOAD', 'NOSAVE');
    };
  }

  /** Two ways Redis comes back empty: FLUSHALL, and a restart without its files. */
  const wipes: [string, (admin: Redis) => Promise<void>][] = [
    ['FLUSHALL', (admin) => admin.flushall().then(() => undefined)],
    [
      'restart without persistence',
      async (admin) => {
        // Stop persisting, drop the files, restart: Redis starts empty on the same port.
        await admin.call('CONFIG', 'SET', 'appendonly', 'no');
        await admin.call('CONFIG', 'SET', 'save', '');
        const dir = String(((await admin.call('CONFIG', 'GET', 'dir')) as string[])[1]);
        const removed = await redis.container.exec([
          'sh',
          '-c',
          `rm -rf ${dir}/appendonlydir ${dir}/appendonly.aof ${dir}/dump.rdb`,
        ]);
        expect(removed.exitCode).toBe(0);
        await redis.container.restart();
      },
    ],
  ];

  it.each(wipes)(
    'Redis restarted empty (%s): no false notices, names and ids unique, drain moves clients with resume, history reset reported',
    async (_how, wipe) => {
      nodes = await redisCluster(redis.url, 3, ENV);
      const [n0, n1, n2] = [at(nodes, 0), at(nodes, 1), at(nodes, 2)];
      const prefix = prefixOf(n0);
      admin = adminClient(redis.url);
      const alice = await connect(n0.url, { name: 'alice' });
      const bob = await connect(n1.url, { name: 'bob' });
      const carol = new ResumingClient([n2.url, n1.url], 'carol');
      await carol.start();
      const dave = await connect(n0.url, { name: 'dave', room: 'attic' });
      const erin = new ResumingClient([n2.url, n0.url], 'erin', 'attic');
      await erin.start();
      closers.push(alice.close, bob.close, dave.close);
      closers.push(
        () => carol.close(),
        () => erin.close(),
      );
      const lobby: [string, Sender][] = [
        ['alice', alice],
        ['bob', bob],
        ['carol', carol],
      ];
      const attic: [string, Sender][] = [
        ['dave', dave],
        ['erin', erin],
      ];
      const sent = new Map<string, string>();
      const lobbyTexts = await converse(lobby, 'l', 1, 10, sent);
      const atticTexts = await converse(attic, 'a', 1, 10, sent);
      // frank joins a room with a log: his `synced` names its epoch.
      const frank = await connect(n1.url, { name: 'frank' });
      closers.push(frank.close);
      await eventually(() => expect(texts(frank)).toEqual(lobbyTexts));

      // frank goes away, then misses five messages that the reset will take with it.
      const frankSince = at(frank.synced, 0).seq;
      const frankEpoch = frank.synced.at(-1)?.epoch;
      expect(frankEpoch).toEqual(expect.any(String));
      frank.close();
      await eventually(() => expect(notices(bob.lines).at(-1)).toBe('frank left'));
      lobbyTexts.push(...(await converse(lobby, 'l', 11, 5, sent)));
      // Every id handed out so far, frank's included though he is offline at the reset.
      const ids = [alice, bob, dave, frank].map((c) => c.welcome.user.id);
      ids.push(...[carol, erin].map((c) => c.welcomes[0]?.user.id ?? 0));
      const wipedAt = Date.now();
      const marks = [alice, bob, dave].map((c) => c.lines.length);
      const resumingMarks = [carol, erin].map((c) => c.lines.length);

      await wipe(admin);
      // The admin connection does not survive a restart; a new one serves either way.
      admin.disconnect();
      admin = adminClient(redis.url);
      // Every node re-asserts its own: five resume records, presence, names.
      await eventually(async () => {
        expect(await admin?.keys(`${prefix}:resume:*`)).toHaveLength(5);
        const who = await bob.request('who', {});
        expect(who.ok && 'members' in who && (who.members as unknown[]).length).toBe(3);
      }, 10_000);

      // Names stay unique; a new user gets an id no online user holds.
      expect((await refused(n0.url, { name: 'carol' })).code).toBe('NAME_TAKEN');
      expect((await refused(n1.url, { name: 'ALICE' })).code).toBe('NAME_TAKEN');
      const grace = await connect(n1.url, { name: 'grace' });
      closers.push(grace.close);
      expect(ids).not.toContain(grace.welcome.user.id);
      // New ids start above the time of the loss: none handed out before can come back.
      expect(grace.welcome.user.id).toBeGreaterThan(wipedAt);

      lobbyTexts.push(...(await converse(lobby, 'l', 16, 5, sent)));
      atticTexts.push(...(await converse(attic, 'a', 11, 5, sent)));

      // SIGTERM-style drain of carol's and erin's node: both move with resume, nobody notices.
      await n2.gateway.drain();
      await eventually(() => {
        expect(carol.node).toBe(n1.nodeId);
        expect(erin.node).toBe(n0.nodeId);
      });
      for (const client of [carol, erin]) {
        expect(client.refusals).not.toContain('NAME_TAKEN');
        expect(client.welcomes.map((w) => w.user.id)).toEqual([
          client.welcomes[0]?.user.id,
          client.welcomes[0]?.user.id,
        ]);
        expect(client.synced.at(-1)).toMatchObject({ lost: 0 });
      }

      lobbyTexts.push(...(await converse(lobby, 'l', 21, 5, sent)));
      atticTexts.push(...(await converse(attic, 'a', 16, 5, sent)));
      const everyone = { alice, bob, carol, dave, erin };
      for (const [name, client] of Object.entries(everyone)) {
        const room = name === 'dave' || name === 'erin' ? atticTexts : lobbyTexts;
        await eventually(() =>
          expect(client.messages.map((m) => m.text)).toEqual(othersOf(room, sent, name)),
        );
      }
      expect(texts(grace)).toEqual(lobbyTexts.slice(-10).filter((t) => sent.get(t) !== 'grace'));
      expectPositionsUnique([...Object.values(everyone), grace].map((c) => c.messages));
      // No false notices: only grace's arrival since the reset.
      expect(notices(alice.lines, at(marks, 0))).toEqual(['grace joined']);
      expect(notices(bob.lines, at(marks, 1))).toEqual(['grace joined']);
      expect(notices(carol.lines, at(resumingMarks, 0))).toEqual(['grace joined']);
      expect(notices(dave.lines, at(marks, 2))).toEqual([]);
      expect(notices(erin.lines, at(resumingMarks, 1))).toEqual([]);

      // The room's log started a new epoch at its first message after the loss, and its members
      // were told before that message.
      // (Each node that finds the loss starts a generation; they normally all check in within
      // the settle window, before the room's next message, so there is one new epoch.)
      const renewed = renewals(alice);
      expect(renewed.length).toBeGreaterThanOrEqual(1);
      expect(renewed[0]?.epoch).not.toBe(frankEpoch);

      // frank comes back from before the reset: his position is of the old epoch, so he is told
      // the history restarted and gets what the log holds.
      const back = await connect(n0.url, { name: 'frank', since: frankSince, epoch: frankEpoch });
      closers.push(back.close);
      expect(texts(back)).toEqual(lobbyTexts.slice(-10));
      expect(back.synced.at(-1)).toMatchObject({
        replayed: 10,
        restarted: true,
        epoch: renewed.at(-1)?.epoch,
      });
    },
    60_000,
  );

  it('Redis restored from an older snapshot: every message at most once, one message per position, the lost ones reported', async () => {
    nodes = await redisCluster(redis.url, 3, ENV);
    const [n0, n1, n2] = [at(nodes, 0), at(nodes, 1), at(nodes, 2)];
    const prefix = prefixOf(n0);
    admin = adminClient(redis.url);
    const ann = await connect(n0.url, { name: 'ann' });
    const ben = await connect(n1.url, { name: 'ben' });
    const cat = await connect(n2.url, { name: 'cat' });
    closers.push(ann.close, ben.close, cat.close);
    const senders: [string, Sender][] = [
      ['ann', ann],
      ['ben', ben],
      ['cat', cat],
    ];
    const sent = new Map<string, string>();
    const all = await converse(senders, 'm', 1, 20, sent);
    // dan and eve join a room with a log: their `synced` names its epoch (and seq 20).
    const dan = await connect(n2.url, { name: 'dan' });
    const eve = await connect(n1.url, { name: 'eve' });
    closers.push(dan.close, eve.close);
    expect(texts(dan)).toEqual(all);

    // The snapshot: what Redis will come back with.
    const restore = await saveSnapshot(admin, prefix);
    // dan leaves with everything up to 20; the next 20 will be lost to the rollback.
    const danSince = at(dan.synced, 0).seq;
    const epoch = at(dan.synced, 0).epoch;
    expect(epoch).toEqual(expect.any(String));
    dan.close();
    all.push(...(await converse(senders, 'm', 21, 20, sent)));

    // Redis comes back from the older snapshot, every node having checked in since it.
    await restore();
    expect(Number(await admin.get(`${prefix}:seq:lobby`))).toBe(20);

    // Sends right away: the senders' floors keep seqs from going back.
    all.push(...(await converse(senders, 'm', 41, 20, sent)));
    // The snapshot still had dan online; his node notices the rollback and drops that record,
    // silently (everyone saw him leave when he did).
    await eventually(async () => {
      const who = await ann.request('who', {});
      const names = who.ok && 'members' in who ? (who.members as { name: string }[]) : [];
      expect(names.map((m) => m.name).sort()).toEqual(['ann', 'ben', 'cat', 'eve']);
    });
    for (const [name, client] of Object.entries({ ann, ben, cat, eve })) {
      await eventually(() => expect(texts(client)).toEqual(othersOf(all, sent, name)));
    }
    expectPositionsUnique([ann, ben, cat, eve].map((c) => c.messages));
    expect(Math.max(...eve.messages.map((m) => m.seq))).toBe(60);
    for (const client of [ann, ben, cat, eve])
      expect(notices(client.lines)).not.toContain('ann left');

    // The log started a new epoch at m41; eve, online, was told before it.
    const renewed = renewals(eve);
    expect(renewed[0]).toEqual({
      room: 'lobby',
      seq: 40,
      replayed: 0,
      lost: 0,
      epoch: expect.any(String),
      renewed: true,
    });
    const newEpoch = renewed.at(-1)?.epoch;
    expect(newEpoch).not.toBe(epoch);

    // dan, away since 20 of the old epoch, is told the history restarted and gets what the log
    // holds.
    const danBack = await connect(n0.url, { name: 'dan', since: danSince, epoch });
    closers.push(danBack.close);
    expect(texts(danBack)).toEqual(all.slice(40));
    expect(danBack.synced.at(-1)).toMatchObject({
      seq: 60,
      replayed: 20,
      restarted: true,
      epoch: newEpoch,
    });

    // Resumes in the new epoch are exact: eve steps out for five messages and misses nothing.
    const eveSince = Math.max(...eve.messages.map((m) => m.seq));
    eve.close();
    all.push(...(await converse(senders, 'm', 61, 5, sent)));
    const eveBack = await connect(n2.url, { name: 'eve', since: eveSince, epoch: newEpoch });
    closers.push(eveBack.close);
    expect(texts(eveBack)).toEqual(all.slice(60));
    expect(eveBack.synced.at(-1)).toMatchObject({ replayed: 5, lost: 0, epoch: newEpoch });
    expectPositionsUnique([ann, ben, cat, eve, danBack, eveBack].map((c) => c.messages));
  }, 60_000);
  // Found by the one-Redis soak at a29bbd0: Redis came back from a snapshot whose log had the
  // epoch before the one a node held in memory; a join read the old epoch's entries from the log
  // and the rest from memory, the newer epoch's messages under the old epoch's positions, which
  // that epoch had given to other messages.
  it('Redis restored from an older snapshot twice: a join is not served the newer epoch a node holds in memory as the old one', async () => {
    nodes = await redisCluster(redis.url, 2, { ...ENV, HISTORY_MEMORY_KB: '256' });
    const [n0, n1] = [at(nodes, 0), at(nodes, 1)];
    admin = adminClient(redis.url);
    const ann = await connect(n0.url, { name: 'ann' });
    const ben = await connect(n1.url, { name: 'ben' });
    closers.push(ann.close, ben.close);
    const seqOf = (client: TestClient, text: string) =>
      client.messages.find((m) => m.text === text)?.seq;
    for (let i = 1; i <= 20; i++) await sendUntilStored(ann, `m${i}`);
    await eventually(() => expect(seqOf(ben, 'm20')).toBe(20));

    // The snapshot: lobby's log up to 20, in its first epoch.
    const restore = await saveSnapshot(admin, prefixOf(n0));

    // ann steps out; ben alone is given 21..25 in that epoch, then steps out too.
    expect(await ann.request('join', { room: 'side' })).toMatchObject({ ok: true });
    const first = await sendUntilStored(ben, 'b21');
    expect(first.seq).toBe(21);
    const oldEpoch = first.epoch;
    expect(oldEpoch).toEqual(expect.any(String));
    const given = new Map<number, string>([[21, 'b21']]);
    for (let i = 22; i <= 25; i++) given.set((await sendUntilStored(ben, `b${i}`)).seq, `b${i}`);
    expect([...given.keys()]).toEqual([21, 22, 23, 24, 25]);
    expect(await ben.request('join', { room: 'side' })).toMatchObject({ ok: true });

    // Redis comes back older: 21..25 are lost, and nobody online holds them. ann comes back
    // and the log goes on at 21 in a new epoch; ann's node holds 21..30 of it in memory.
    await restore();
    // Joins too are refused (retryable) until the nodes have recovered.
    await eventually(async () => {
      expect(await ann.request('join', { room: 'lobby' })).toMatchObject({ ok: true, seq: 20 });
    }, 15_000);
    const next = await sendUntilStored(ann, 'n21');
    expect(next.seq).toBe(21);
    expect(next.epoch).not.toBe(oldEpoch);
    for (let i = 22; i <= 30; i++) expect((await sendUntilStored(ann, `n${i}`)).seq).toBe(i);

    // Redis comes back from the same snapshot again: the log is the old epoch's, up to 20.
    await restore();
    let dan: TestClient | undefined;
    await eventually(async () => {
      dan = await connect(n0.url, { name: 'dan' });
    }, 15_000);
    if (dan === undefined) throw new Error('dan did not get in');
    closers.push(dan.close);
    const synced = at(dan.synced, 0);
    // Whatever dan is given under an epoch is what that epoch holds at each position (the new
    // one started at 21: it gave nothing below).
    for (const m of dan.messages) {
      if (synced.epoch === oldEpoch && m.seq > 20) expect(m.text).toBe(given.get(m.seq));
      if (synced.epoch === next.epoch) expect(m.text).toBe(`n${m.seq}`);
    }
    expect(texts(dan).slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i + 1}`));
  }, 60_000);

  it('keeps private conversations going through an emptied Redis: no DM position given twice, none ignored', async () => {
    nodes = await redisCluster(redis.url, 2, ENV);
    const [n0, n1] = [at(nodes, 0), at(nodes, 1)];
    admin = adminClient(redis.url);
    const alice = await connect(n0.url, { name: 'alice' });
    const bob = await connect(n1.url, { name: 'bob' });
    closers.push(alice.close, bob.close);
    for (const text of ['one', 'two', 'three']) {
      expect(await alice.request('dm', { to: 'bob', text })).toMatchObject({ ok: true });
    }
    await eventually(() => expect(bob.dms.map((m) => m.text)).toEqual(['one', 'two', 'three']));

    await admin.flushall();
    // At once, retried while refused (UNAVAILABLE, nothing stored): the conversation takes no
    // position until both nodes re-asserted their own (the broker fence).
    let ack: unknown;
    await eventually(async () => {
      ack = await alice.request('dm', { to: 'bob', text: 'after', cid: 'after' });
      expect(ack).toMatchObject({ ok: true });
    }, 15_000);
    // Before: the conversation started over at seq 1 and bob, still online, ignored it.
    expect(ack).toMatchObject({ ok: true, seq: 4 });
    await eventually(async () => {
      expect(await admin?.keys(`${prefixOf(n0)}:resume:*`)).toHaveLength(2);
    }, 10_000);
    await eventually(() =>
      expect(bob.dms.map((m) => `${m.seq} ${m.text}`)).toEqual([
        '1 one',
        '2 two',
        '3 three',
        '4 after',
      ]),
    );
  }, 60_000);
});
