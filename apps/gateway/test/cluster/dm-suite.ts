import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, eventually, refused, type TestClient } from '../support/client';
import { at, closeAll, type RunningGateway } from '../support/cluster';

const SECRET = 'a-test-secret-of-enough-length';
const AUTH = { AUTH_SECRET: SECRET };

/** A current HS256 token for `sub`, named `name`. */
function token(sub: string, name: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sub, name, iat: now, exp: now + 3_600 })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(SECRET));
}

const textsOf = (result: unknown): string[] =>
  (result as { messages: { text: string }[] }).messages.map((m) => m.text);

/** Private conversations, the same on every backend (see README, "Private conversations"). */
export function dmSuite(
  label: string,
  start: (overrides?: Record<string, string>) => Promise<RunningGateway[]>,
): void {
  describe(`private conversations (${label})`, () => {
    let nodes: RunningGateway[] = [];
    let clients: TestClient[] = [];
    const open = async (node: number, options: Parameters<typeof connect>[1] = {}) => {
      const client = await connect(at(nodes, node).url, options);
      clients.push(client);
      return client;
    };
    afterEach(async () => {
      await closeAll(clients, nodes);
      clients = [];
      nodes = [];
    });

    it('a DM to a user who went offline is delivered when they resume on another node, once', async () => {
      nodes = await start();
      const alice = await open(0, { name: 'alice' });
      const bob = await open(1, { name: 'bob' });
      const token = bob.welcome.resumeToken;
      bob.close();
      await eventually(async () =>
        expect(await alice.request('who', {})).toMatchObject({ members: [{ name: 'alice' }] }),
      );
      const sent = await alice.request('dm', { to: 'bob', text: 'are you there?' });
      expect(sent).toMatchObject({ ok: true, seq: 1, to: { id: bob.welcome.user.id } });
      const back = await open(2, { resume: token });
      await eventually(() =>
        expect(back.dms).toMatchObject([{ text: 'are you there?', seq: 1, offline: true }]),
      );
      await alice.request('dm', { to: 'bob', text: 'welcome back' });
      await eventually(() =>
        expect(back.dms.map((d) => d.text)).toEqual(['are you there?', 'welcome back']),
      );
      expect(back.dms.map((d) => d.seq)).toEqual([1, 2]);
    });

    it('lists conversations with unread counts, pages history, and reading clears unread', async () => {
      nodes = await start();
      const alice = await open(0, { name: 'alice' });
      const bob = await open(1, { name: 'bob' });
      for (const text of ['one', 'two', 'three']) await alice.request('dm', { to: 'bob', text });
      await eventually(() => expect(bob.dms).toHaveLength(3));
      expect(await bob.request('dms', {})).toMatchObject({
        ok: true,
        conversations: [{ with: { name: 'alice' }, seq: 3, unread: 3 }],
      });
      const newest = await bob.request('history', { with: 'alice', limit: 2 });
      expect(newest).toMatchObject({ ok: true, first: 1, head: 3 });
      expect(
        (newest as unknown as { messages: { text: string }[] }).messages.map((m) => m.text),
      ).toEqual(['two', 'three']);
      const older = await bob.request('history', { with: 'alice', before: 2 });
      expect(
        (older as unknown as { messages: { text: string }[] }).messages.map((m) => m.text),
      ).toEqual(['one']);
      expect(await bob.request('dms', {})).toMatchObject({ conversations: [{ unread: 0 }] });
      // The sender has read what they wrote.
      expect(await alice.request('dms', {})).toMatchObject({ conversations: [{ unread: 0 }] });
    });

    it('keeps DM_HISTORY_LIMIT messages per conversation; history tells where it starts', async () => {
      nodes = await start({ DM_HISTORY_LIMIT: '3' });
      const alice = await open(0, { name: 'alice' });
      await open(1, { name: 'bob' });
      for (let i = 1; i <= 5; i++) await alice.request('dm', { to: 'bob', text: `m${i}` });
      const page = await alice.request('history', { with: 'bob' });
      // first 3: seqs 1 and 2 are gone.
      expect(page).toMatchObject({ ok: true, first: 3, head: 5 });
    });

    it("a new anonymous user taking a freed name never reads the previous holder's conversation", async () => {
      nodes = await start();
      const alice = await open(0, { name: 'alice' });
      const bob = await open(1, { name: 'bob' });
      await alice.request('dm', { to: 'bob', text: 'secret for the first bob' });
      await eventually(() => expect(bob.dms).toHaveLength(1));
      bob.close();
      await eventually(async () =>
        expect(await alice.request('who', {})).toMatchObject({ members: [{ name: 'alice' }] }),
      );
      await alice.request('dm', { to: 'bob', text: 'second secret' });
      const impostor = await open(2, { name: 'bob' });
      expect(impostor.welcome.user.id).not.toBe(bob.welcome.user.id);
      expect(await impostor.request('dms', {})).toMatchObject({ ok: true, conversations: [] });
      expect(await impostor.request('history', { with: 'alice' })).toMatchObject({
        ok: true,
        messages: [],
        head: 0,
      });
      // Guessing a conversation id is no way in: history takes a name, never an id.
      expect(await impostor.request('history', { with: '1-2' })).toMatchObject({
        ok: false,
        error: { code: 'USER_NOT_FOUND' },
      });
      // A marker through the live path: nothing of the first bob's arrived before it.
      await alice.request('dm', { to: 'bob', text: 'hello new bob' });
      await eventually(() => expect(impostor.dms.map((d) => d.text)).toEqual(['hello new bob']));
    });

    it('with auth: an offline subject gets its DMs on its next connect, and a second client sees the same history', async () => {
      nodes = await start(AUTH);
      const alice = await open(0, { token: await token('a-sub', 'alice') });
      const first = await open(1, { token: await token('b-sub', 'bob') });
      const bobId = first.welcome.user.id;
      first.close();
      await eventually(async () =>
        expect(await alice.request('who', {})).toMatchObject({ members: [{ name: 'alice' }] }),
      );
      await alice.request('dm', { to: 'bob', text: 'while you were out' });
      const bob = await open(2, { token: await token('b-sub', 'bob') });
      expect(bob.welcome.user.id).toBe(bobId);
      await eventually(() =>
        expect(bob.dms).toMatchObject([{ text: 'while you were out', offline: true }]),
      );
      // Delivered once per user: a second client of bob is not sent it again, but reads it.
      const second = await open(0, { token: await token('b-sub', 'bob') });
      expect(textsOf(await second.request('history', { with: 'alice' }))).toEqual([
        'while you were out',
      ]);
      await alice.request('dm', { to: 'bob', text: 'live' });
      await eventually(() => expect(second.dms.map((d) => d.text)).toEqual(['live']));
      await eventually(() =>
        expect(bob.dms.map((d) => d.text)).toEqual(['while you were out', 'live']),
      );
    });

    it('with auth: a client reconnecting with its positions gets exactly what it missed, though another client of the user got it', async () => {
      nodes = await start(AUTH);
      const alice = await open(0, { token: await token('a-sub', 'alice') });
      const laptop = await open(1, { token: await token('b-sub', 'bob') });
      const phone = await open(2, { token: await token('b-sub', 'bob') });
      const first = await alice.request('dm', { to: 'bob', text: 'one' });
      await eventually(() => expect(phone.dms).toHaveLength(1));
      const conversation = (first as unknown as { conversation: string }).conversation;
      phone.close();
      await alice.request('dm', { to: 'bob', text: 'two' });
      await alice.request('dm', { to: 'bob', text: 'three' });
      await eventually(() => expect(laptop.dms).toHaveLength(3));
      const back = await open(0, {
        token: await token('b-sub', 'bob'),
        resume: phone.welcome.resumeToken,
        dms: { [conversation]: 1 },
      });
      await eventually(() => expect(back.dms.map((d) => d.text)).toEqual(['two', 'three']));
      await alice.request('dm', { to: 'bob', text: 'four' });
      await eventually(() => expect(back.dms.map((d) => d.seq)).toEqual([2, 3, 4]));
    });

    it('with auth: a position from a conversation that expired and started over is not trusted', async () => {
      nodes = await start({ ...AUTH, ROOM_TTL_S: '1' });
      const alice = await open(0, { token: await token('a-sub', 'alice') });
      const bob = await open(1, { token: await token('b-sub', 'bob') });
      for (const text of ['a', 'b', 'c']) await alice.request('dm', { to: 'bob', text });
      await eventually(() => expect(bob.dms).toHaveLength(3));
      const conversation = bob.dms[0]?.conversation ?? '';
      bob.close();
      // Another client of bob stays online (a name's last holder expires with the retention).
      await open(0, { token: await token('b-sub', 'bob') });
      await eventually(async () =>
        expect(await alice.request('dms', {})).toMatchObject({ conversations: [] }),
      );
      await alice.request('dm', { to: 'bob', text: 'fresh start' });
      const back = await open(2, {
        token: await token('b-sub', 'bob'),
        dms: { [conversation]: 3 },
      });
      await eventually(() =>
        expect(back.dms).toMatchObject([{ text: 'fresh start', seq: 1, offline: true }]),
      );
    });

    it('with auth: another subject can read nothing of a conversation, not even with its resume token or as the freed name', async () => {
      nodes = await start(AUTH);
      const alice = await open(0, { token: await token('a-sub', 'alice') });
      const bob = await open(1, { token: await token('b-sub', 'bob') });
      await alice.request('dm', { to: 'bob', text: 'private' });
      await eventually(() => expect(bob.dms).toHaveLength(1));
      expect(
        await refused(at(nodes, 2).url, {
          token: await token('mallory', 'bob'),
          resume: bob.welcome.resumeToken,
        }),
      ).toMatchObject({ code: 'UNAUTHORIZED' });
      bob.close();
      await eventually(async () =>
        expect(await alice.request('who', {})).toMatchObject({ members: [{ name: 'alice' }] }),
      );
      const mallory = await open(2, {
        token: await token('mallory', 'bob'),
        dms: { [`${alice.welcome.user.id}-${bob.welcome.user.id}`]: 0 },
      });
      expect(await mallory.request('dms', {})).toMatchObject({ conversations: [] });
      expect(textsOf(await mallory.request('history', { with: 'alice' }))).toEqual([]);
      await alice.request('dm', { to: 'bob', text: 'for whoever is bob now' });
      await eventually(() =>
        expect(mallory.dms.map((d) => d.text)).toEqual(['for whoever is bob now']),
      );
    });

    it('a retried DM (same cid) goes where its first try went, though the name changed hands meanwhile', async () => {
      nodes = await start();
      const alice = await open(0, { name: 'alice' });
      const bob = await open(1, { name: 'bob' });
      const once = { to: 'bob', text: 'only for the first bob', cid: 'a-1' };
      const first = await alice.request('dm', once);
      expect(first).toMatchObject({ ok: true, seq: 1, to: { id: bob.welcome.user.id } });
      await eventually(() => expect(bob.dms.map((d) => d.text)).toEqual([once.text]));
      bob.close();
      await eventually(async () =>
        expect(await alice.request('who', {})).toMatchObject({ members: [{ name: 'alice' }] }),
      );
      const impostor = await open(2, { name: 'bob' });
      // Alice never saw the first answer (say): she sends the same DM again, same cid.
      expect(await alice.request('dm', once)).toEqual(first);
      await alice.request('dm', { to: 'bob', text: 'hello new bob' });
      await eventually(() => expect(impostor.dms.map((d) => d.text)).toEqual(['hello new bob']));
    });

    it('a name nobody has held is USER_NOT_FOUND', async () => {
      nodes = await start();
      const alice = await open(0, { name: 'alice' });
      expect(await alice.request('dm', { to: 'ghost', text: 'hi' })).toMatchObject({
        ok: false,
        error: { code: 'USER_NOT_FOUND' },
      });
    });
  });
}
