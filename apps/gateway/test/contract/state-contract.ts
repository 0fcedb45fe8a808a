import type { UserRef } from '@chat/protocol';
import { describe, expect, it, vi } from 'vitest';
import type { Bus } from '../../src/broker/bus';
import type { Envelope, JoinedEnvelope } from '../../src/broker/envelope';
import type {
  ClusterState,
  Entered,
  LeftTemplate,
  SessionRef,
} from '../../src/broker/cluster-state';
import { DEFAULT_QUIET_ABOVE } from '../../src/broker/quiet-rooms';

/** A state and a bus on the same broker (to watch what the state publishes). */
export interface StateFixture {
  state: ClusterState;
  bus: Bus;
}

const eventually = (check: () => void) => vi.waitFor(check, { timeout: 5_000, interval: 10 });

let counter = 0;
const TTL = 60_000;

function joined(room: string, user: UserRef): JoinedEnvelope {
  return { v: 1, type: 'joined', origin: 'n', room, user };
}
function left(user: UserRef, reason: LeftTemplate['reason'] = 'quit'): LeftTemplate {
  return { v: 1, type: 'left', origin: 'n', user, reason };
}

async function watch(bus: Bus, ...rooms: string[]) {
  const lines: string[] = [];
  bus.setHandler({
    envelope: (e: Envelope) => {
      const flag = e.type === 'joined' || e.type === 'left' ? e.quiet : undefined;
      const tail = flag === undefined ? '' : flag ? ' [quiet]' : ' [loud]';
      if (e.type === 'joined') lines.push(`${e.room}: ${e.user.name} joined${tail}`);
      if (e.type === 'left') lines.push(`${e.room}: ${e.user.name} left (${e.reason})${tail}`);
    },
    down: () => undefined,
    resumed: () => undefined,
  });
  for (const room of rooms) await bus.subscribe({ kind: 'room', room });
  return lines;
}

/** The ClusterState contract; run against every implementation. */
export function stateContract(name: string, fixture: () => Promise<StateFixture>) {
  describe(`ClusterState contract: ${name}`, () => {
    const node = () => `node${++counter}`;
    const session = (nodeId: string, user: UserRef): SessionRef => ({
      nodeId,
      key: `s${++counter}`,
      user,
    });

    it('hands out unique user ids', async () => {
      const { state } = await fixture();
      const ids = await Promise.all(Array.from({ length: 20 }, () => state.nextUserId()));
      expect(new Set(ids).size).toBe(20);
    });

    it('keeps a grace-period name hold, case-insensitively, until it ends', async () => {
      const { state } = await fixture();
      const name = `Held${++counter}`;
      const hold = { userId: 7, address: '10.1.2.3', until: Date.now() + 300 };
      expect(await state.nameHold(name)).toBeUndefined();
      await state.holdName(name, hold);
      expect(await state.nameHold(name.toUpperCase())).toEqual(hold);
      await eventually(async () => expect(await state.nameHold(name)).toBeUndefined());
    });

    it('claims names case-insensitively; the same user may hold several sessions', async () => {
      const { state } = await fixture();
      const n = node();
      const alice = { id: 1000 + ++counter, name: `Alice${counter}` };
      const impostor = { id: alice.id + 1, name: alice.name.toLowerCase() };
      expect(await state.openSession(session(n, alice), TTL)).toBe(true);
      expect(await state.openSession(session(node(), impostor), TTL)).toBe(false);
      expect(await state.openSession(session(node(), alice), TTL)).toBe(true);
      expect(await state.findUser(alice.name.toUpperCase())).toEqual(alice);
      expect(await state.findUser('nobody-here')).toBeUndefined();
    });

    it('renews the name leases of many users at once, every one of them', async () => {
      const { state } = await fixture();
      const n = node();
      const users = Array.from({ length: 600 }, (_, i) => ({
        id: 20_000 + ++counter,
        name: `Many${counter}x${i}`,
      }));
      const opened = await Promise.all(users.map((u) => state.openSession(session(n, u), 400)));
      expect(opened.every(Boolean)).toBe(true);
      // A name that changed hands meanwhile stays with its new holder.
      const taken = { id: 30_000 + ++counter, name: `Taken${counter}` };
      const holder = { id: taken.id + 1, name: taken.name };
      expect(await state.openSession(session(node(), holder), TTL)).toBe(true);
      await state.renewNames([...users, taken], TTL);
      await new Promise((resolve) => setTimeout(resolve, 600));
      const found = await Promise.all(users.map((u) => state.findUser(u.name)));
      expect(found).toEqual(users);
      expect(await state.findUser(taken.name)).toEqual(holder);
    });

    it('lets one user be online under one name at a time', async () => {
      const { state } = await fixture();
      const id = 5000 + ++counter;
      const first = session(node(), { id, name: `Carol${counter}` });
      const second = session(node(), { id, name: `Carol${counter}b` });
      expect(await state.openSession(first, TTL)).toBe(true);
      expect(await state.openSession(second, TTL)).toBe(false);
      expect(await state.findUser(second.user.name)).toBeUndefined();
      await state.closeSession(first, left(first.user));
      expect(await state.openSession(second, TTL)).toBe(true);
      expect(await state.findUser(second.user.name)).toEqual(second.user);
    });

    it("keeps a closed session's name for keepNameMs (a grace period cut short): others are refused, the user is not", async () => {
      const { state } = await fixture();
      const id = 6000 + ++counter;
      const dana = { id, name: `Dana${counter}` };
      const first = session(node(), dana);
      expect(await state.openSession(first, TTL)).toBe(true);
      await state.closeSession(first, left(dana, 'disconnected'), true, 400);
      // Someone else asking for the name within those 400 ms is refused; dana coming back is not.
      expect(await state.openSession(session(node(), { id: id + 1, name: dana.name }), TTL)).toBe(
        false,
      );
      const back = session(node(), dana);
      expect(await state.openSession(back, TTL)).toBe(true);
      await state.closeSession(back, left(dana, 'disconnected'), true, 300);
      // Once that time is over, the name is free.
      await eventually(async () =>
        expect(await state.openSession(session(node(), { id: id + 2, name: dana.name }), TTL)).toBe(
          true,
        ),
      );
    });

    it('announces a user joining and leaving a room once, however many sessions', async () => {
      const { state, bus } = await fixture();
      const room = `room${++counter}`;
      const lines = await watch(bus, room);
      const bob = { id: 2000 + counter, name: `bob${counter}` };
      const s1 = session(node(), bob);
      const s2 = session(node(), bob);
      await state.openSession(s1, TTL);
      await state.openSession(s2, TTL);
      expect(await state.enterRoom(s1, joined(room, bob), left(bob, 'moved'))).toEqual({
        first: true,
        members: 1,
      });
      expect(await state.enterRoom(s2, joined(room, bob), left(bob, 'moved'))).toEqual({
        first: false,
        members: 1,
      });
      expect(await state.members(room)).toEqual([bob]);
      expect((await state.rooms()).find((r) => r.room === room)).toEqual({ room, members: 1 });
      await state.closeSession(s1, left(bob));
      expect(await state.members(room)).toEqual([bob]);
      await state.closeSession(s2, left(bob));
      expect(await state.members(room)).toEqual([]);
      expect((await state.rooms()).find((r) => r.room === room)).toBeUndefined();
      await eventually(() =>
        expect(lines).toEqual([`${room}: ${bob.name} joined`, `${room}: ${bob.name} left (quit)`]),
      );
      expect(await state.findUser(bob.name)).toBeUndefined();
    });

    // `room` in the session ref is the caller's belief, a hint: a wrong one changes nothing.
    it.each([
      ['no belief', undefined, undefined],
      ['a wrong belief', 'elsewhere', ''],
    ])('moves a session between rooms, announcing in both (%s)', async (_, first, second) => {
      const { state, bus } = await fixture();
      const a = `a${++counter}`;
      const b = `b${counter}`;
      const lines = await watch(bus, a, b);
      const cy = { id: 3000 + counter, name: `cy${counter}` };
      const s = session(node(), cy);
      await state.openSession(s, TTL);
      await state.enterRoom({ ...s, room: first }, joined(a, cy), left(cy, 'moved'));
      await state.enterRoom({ ...s, room: second }, joined(b, cy), left(cy, 'moved'));
      expect(await state.exitRoom(s, left(cy, 'moved'))).toBe(b);
      expect(await state.exitRoom(s, left(cy, 'moved'))).toBeUndefined();
      await eventually(() =>
        expect(lines).toEqual([
          `${a}: ${cy.name} joined`,
          `${a}: ${cy.name} left (moved)`,
          `${b}: ${cy.name} joined`,
          `${b}: ${cy.name} left (moved)`,
        ]),
      );
      expect(await state.findUser(cy.name)).toEqual(cy);
      // A session the broker does not know is not entered, whatever the caller believed.
      const gone = session(node(), { id: 4000 + counter, name: `gone${counter}` });
      const entered = await state.enterRoom(
        { ...gone, room: first },
        joined(a, gone.user),
        left(gone.user),
      );
      expect(entered).toEqual({ first: false, members: 0 });
      expect(await state.members(a)).toEqual([]);
    });

    it('keeps a room above the quiet size unannounced, flagging the changes across it', async () => {
      const { state, bus } = await fixture();
      const room = `big${++counter}`;
      const lines = await watch(bus, room);
      const quiet = DEFAULT_QUIET_ABOVE;
      const n = node();
      const sessions = Array.from({ length: quiet + 2 }, (_, i) =>
        session(n, { id: 100_000 + counter * 1_000 + i, name: `big${counter}u${i}` }),
      );
      const entered: Entered[] = [];
      for (const s of sessions) {
        await state.openSession(s, TTL);
        entered.push(await state.enterRoom(s, joined(room, s.user), left(s.user, 'moved')));
      }
      expect(entered.at(-1)).toEqual({ first: true, members: quiet + 2 });
      expect(await state.members(room)).toHaveLength(quiet + 2);
      const [a, b, c] = sessions.slice(-3).map((s) => s.user.name);
      // The last member in, the next-to-last, then one more: loud again from the second.
      for (const s of sessions.slice(-3).reverse()) await state.closeSession(s, left(s.user));
      await eventually(() => expect(lines).toHaveLength(quiet + 3));
      expect(lines.slice(quiet - 1)).toEqual([
        `${room}: ${a} joined`,
        `${room}: ${b} joined [quiet]`,
        `${room}: ${b} left (quit) [loud]`,
        `${room}: ${a} left (quit)`,
      ]);
      expect(lines.filter((l) => l.includes(`${c} `))).toEqual([]);
    });

    it('does not announce a restored session', async () => {
      const { state, bus } = await fixture();
      const room = `quiet${++counter}`;
      const lines = await watch(bus, room);
      const dee = { id: 4000 + counter, name: `dee${counter}` };
      const s = session(node(), dee);
      await state.openSession(s, TTL);
      expect((await state.enterRoom(s, joined(room, dee), left(dee), false)).first).toBe(true);
      expect(await state.members(room)).toEqual([dee]);
      await state.closeSession(s, left(dee));
      await eventually(() => expect(lines).toEqual([`${room}: ${dee.name} left (quit)`]));
    });

    it('saves and loads resume records', async () => {
      const { state } = await fixture();
      const record = { user: { id: 5, name: 'eve' }, sid: 'sid-1' };
      await state.saveResume(`tok${++counter}`, record, TTL);
      expect(await state.loadResume(`tok${counter}`)).toEqual(record);
      expect(await state.loadResume('unknown')).toBeUndefined();
    });

    it('shares resume keys: a later sighting wins, keys not seen for keepMs are dropped', async () => {
      const { state } = await fixture();
      const now = Date.now();
      ++counter;
      const [a, b, old] = [`a${counter}`, `b${counter}`, `old${counter}`];
      await state.shareResumeKeys(
        [
          { id: a, secret: 'sa', seen: now - 1_000 },
          { id: old, secret: 'so', seen: now - 120_000 },
        ],
        60_000,
      );
      // Another node shares a newer sighting of `a`, an older one too, and its own key.
      const keys = await state.shareResumeKeys(
        [
          { id: a, secret: 'sa', seen: now },
          { id: a, secret: 'sa', seen: now - 5_000 },
          { id: b, secret: 'sb', seen: now },
        ],
        60_000,
      );
      const ours = keys.filter((k) => [a, b, old].includes(k.id));
      expect(ours.sort((x, y) => x.id.localeCompare(y.id))).toEqual([
        { id: a, secret: 'sa', seen: now },
        { id: b, secret: 'sb', seen: now },
      ]);
    });

    it('reaps a node whose lease lapsed, once, announcing only users with no other session', async () => {
      const { state, bus } = await fixture();
      const room = `reap${++counter}`;
      const lines = await watch(bus, room);
      const dead = node();
      const alive = node();
      const fay = { id: 6000 + counter, name: `fay${counter}` };
      const gus = { id: 6001 + counter, name: `gus${counter}` };
      expect(await state.heartbeat(dead, 150)).toBe(true);
      expect(await state.heartbeat(alive, TTL)).toBe(true);
      expect(await state.heartbeat(alive, TTL)).toBe(false);
      const fayDead = session(dead, fay);
      const fayAlive = session(alive, fay);
      const gusDead = session(dead, gus);
      for (const s of [fayDead, fayAlive, gusDead]) {
        await state.openSession(s, TTL);
        await state.enterRoom(s, joined(room, s.user), left(s.user));
      }
      await eventually(async () => expect(await state.expiredNodes()).toContain(dead));
      expect(await state.expiredNodes()).not.toContain(alive);
      const reaps = await Promise.all([
        state.reapNode(dead, alive, (u) => left(u, 'node-failure')),
        state.reapNode(dead, 'another', (u) => left(u, 'node-failure')),
      ]);
      expect(reaps.filter((r) => r !== undefined)).toEqual([2]);
      expect(await state.expiredNodes()).not.toContain(dead);
      expect(await state.members(room)).toEqual([fay]);
      expect(await state.findUser(gus.name)).toBeUndefined();
      expect(await state.findUser(fay.name)).toEqual(fay);
      await eventually(() => expect(lines).toContain(`${room}: ${gus.name} left (node-failure)`));
      expect(lines.filter((l) => l.includes('left'))).toEqual([
        `${room}: ${gus.name} left (node-failure)`,
      ]);
    });

    it("keeps a reaped user's name for keepNameMs: its client may come back as itself", async () => {
      const { state } = await fixture();
      const dead = node();
      const hal = { id: 6100 + ++counter, name: `hal${counter}` };
      expect(await state.heartbeat(dead, 150)).toBe(true);
      await state.openSession(session(dead, hal), TTL);
      await eventually(async () => expect(await state.expiredNodes()).toContain(dead));
      expect(await state.reapNode(dead, node(), (u) => left(u, 'node-failure'), 400)).toBe(1);
      const other = { id: hal.id + 1, name: hal.name };
      expect(await state.openSession(session(node(), other), TTL)).toBe(false);
      expect(await state.openSession(session(node(), hal), TTL)).toBe(true);
    });

    it('lets a node withdraw from the cluster', async () => {
      const { state } = await fixture();
      const n = node();
      await state.heartbeat(n, 100);
      await state.leaveCluster(n);
      expect(await state.heartbeat(n, TTL)).toBe(true);
    });

    it('raises the user id counter only upward, so held ids are never handed out again', async () => {
      const { state } = await fixture();
      const first = await state.nextUserId();
      // Far enough up that Redis' floor for new ids (its time in µs) stays below for days.
      const raised = first + 1_000_000_000_000;
      await state.raiseUserIds(raised);
      expect(await state.nextUserId()).toBe(raised + 1);
      await state.raiseUserIds(first + 10);
      expect(await state.nextUserId()).toBe(raised + 2);
    });

    it('restores a forgotten subject without changing a known one', async () => {
      const { state } = await fixture();
      const subject = `sub-${++counter}`;
      await state.restoreSubject(subject, 4242);
      expect(await state.subjectUserId(subject)).toBe(4242);
      await state.restoreSubject(subject, 7);
      expect(await state.subjectUserId(subject)).toBe(4242);
    });

    it('checks a node in: one cluster epoch, and the mark the node wrote last', async () => {
      const { state } = await fixture();
      const node = `n-${++counter}`;
      const first = await state.checkIn(node, 'm1', TTL);
      expect(first.previousMark).toBeUndefined();
      const second = await state.checkIn(node, 'm2', TTL);
      expect(second).toEqual({ epoch: first.epoch, previousMark: 'm1' });
      expect((await state.checkIn(`other-${node}`, 'x', TTL)).epoch).toBe(first.epoch);
    });
  });
}
