import type { Entry } from '../history';
import { unsureNote, type HistoryModel, type SentMessage } from './model';
import type { Violation } from './violation';

/** One client's view of one room: what it was given, and what it was told it lost. */
interface RoomView {
  /** The room log's epoch as this client last learnt it (synced, or its own send's ack). */
  epoch: string | undefined;
  /** Highest seq delivered in the current epoch. */
  last: number;
  /** Highest seq delivered, per epoch. */
  maxByEpoch: Map<string, number>;
  /** Texts delivered (any epoch): a second one is a duplicate. */
  texts: Set<string>;
  /** Seq ranges (inclusive) it was told are lost, in any epoch. */
  lost: [number, number][];
  /** Positions below this time's sends were wiped by a `restarted` sync. */
  restartedAt: number;
  /** The seq of its last `synced` in this room (a lost count is somewhere above it). */
  syncedSeq: number;
}

/**
 * The room guarantees: one total order per room, each client's view that order restricted to
 * its membership without duplicates or reordering, nothing delivered that nobody sent, no
 * self-echo, per-sender order, and every acked message reaching every member present for it
 * (or that member being told it was lost).
 */
export function checkRooms(model: HistoryModel): Violation[] {
  const out: Violation[] = [];
  const views = new Map<string, RoomView>();
  const view = (c: string, room: string): RoomView => {
    const key = `${c}\u0000${room}`;
    let v = views.get(key);
    if (v === undefined) {
      v = {
        epoch: undefined,
        last: 0,
        maxByEpoch: new Map(),
        texts: new Set(),
        lost: [],
        restartedAt: -1,
        syncedSeq: 0,
      };
      views.set(key, v);
    }
    return v;
  };
  const positions = new Map<string, { id: string; text: string }>();
  const textAt = new Map<string, string>();
  /** Which room each client is a member of now (welcome / join acked), for "present for it". */
  const memberOf = new Map<string, string>();
  const present = new Map<SentMessage, string[]>();
  const lastSeqOfSender = new Map<string, number>();

  const place = (
    room: string,
    epoch: string | undefined,
    seq: number,
    id: string,
    text: string,
  ) => {
    // A client that has not learnt the room's epoch yet cannot say which log a seq is in.
    const pos = epoch === undefined ? undefined : `${room}|${epoch}|${seq}`;
    const before = pos === undefined ? undefined : positions.get(pos);
    if (pos !== undefined && before === undefined) positions.set(pos, { id, text });
    const where = `${room} seq ${seq}${epoch === undefined ? '' : ` (epoch ${epoch})`}`;
    const conflict =
      before !== undefined && before.id !== id
        ? `two messages at ${where}: '${before.text}' (${before.id}) and '${text}' (${id})`
        : undefined;
    const seen = textAt.get(text);
    const position = `${room}|${seq}|${id}`;
    if (seen === undefined) textAt.set(text, position);
    const twice =
      seen !== undefined && seen !== position
        ? `'${text}' is at two positions: ${seen.replaceAll('|', ' ')} and ${position.replaceAll('|', ' ')}`
        : undefined;
    return { conflict, twice };
  };

  // History or replay comes before the `synced` that ends it, and that `synced` says how to read
  // it (another epoch, restarted): a join's messages are held until then.
  type Msg = { entry: Extract<Entry, { k: 'msg' }>; at: number };
  const syncing = new Map<string, Msg[]>();
  const flush = (key: string) => {
    const held = syncing.get(key) ?? [];
    syncing.delete(key);
    for (const { entry, at } of held) onMessage(entry, adder(at));
  };
  const flushClient = (c: string) => {
    for (const key of [...syncing.keys()]) if (key.startsWith(`${c}\u0000`)) flush(key);
  };
  const adder =
    (at: number) =>
    (kind: Violation['kind'], message: string, clients: string[]): void =>
      void out.push({ kind, message, at, clients });

  model.entries.forEach((entry, at) => {
    const add = adder(at);
    switch (entry.k) {
      case 'welcome':
        flushClient(entry.c);
        memberOf.set(entry.c, entry.room);
        syncing.set(`${entry.c}\u0000${entry.room}`, []);
        break;
      case 'lost':
        flushClient(entry.c);
        break;
      case 'end':
        flushClient(entry.c);
        memberOf.delete(entry.c);
        break;
      case 'op':
        if (entry.op === 'quit') memberOf.delete(entry.c);
        if (entry.op === 'join' && entry.room !== undefined) {
          syncing.set(`${entry.c}\u0000${entry.room}`, []);
        }
        break;
      case 'synced': {
        const v = view(entry.c, entry.room);
        if (entry.restarted === true) {
          v.restartedAt = entry.t;
          v.last = 0;
          v.texts.clear();
          v.lost.push([0, entry.seq]);
        } else if (entry.lost > 0) {
          v.lost.push([v.syncedSeq + 1, entry.seq]);
        }
        if (entry.epoch !== undefined && v.epoch !== undefined && v.epoch !== entry.epoch) {
          v.last = 0;
        }
        // The log's epoch as of now: none when the log is empty (e.g. the broker lost it and no
        // node could give it back). The next seqs are then in a log this client has not learnt
        // the epoch of yet, not in the one it knew before.
        v.epoch = entry.epoch;
        v.syncedSeq = entry.seq;
        flush(`${entry.c}\u0000${entry.room}`);
        break;
      }
      case 'gap':
        view(entry.c, entry.room).lost.push([entry.from, entry.to]);
        break;
      case 'ok':
        if (entry.op === 'join' && entry.room !== undefined) memberOf.set(entry.c, entry.room);
        if (entry.op === 'send') onAck(entry, add);
        break;
      case 'msg': {
        const key = `${entry.c}\u0000${entry.room}`;
        const held = syncing.get(key);
        if (held !== undefined) held.push({ entry, at });
        // History with no join seen under way: a join the client sent again after reconnecting
        // (its op was recorded before the connection dropped). Its `synced` comes after it too.
        else if (entry.history === true) syncing.set(key, [{ entry, at }]);
        else onMessage(entry, add);
        break;
      }
      default:
        break;
    }
  });

  function onAck(
    entry: Extract<Entry, { k: 'ok' }>,
    add: (kind: Violation['kind'], message: string, clients: string[]) => void,
  ): void {
    const sent = model.sendByOp.get(`${entry.c}#${entry.n}`);
    if (sent?.ack === undefined) return;
    const v = view(entry.c, sent.room);
    if (sent.ack.epoch !== undefined) v.epoch = sent.ack.epoch;
    const { conflict, twice } = place(sent.room, v.epoch, sent.ack.seq, sent.ack.id, sent.text);
    if (conflict !== undefined) add('position-conflict', conflict, [entry.c]);
    if (twice !== undefined) add('stored-twice', twice + unsureNote(sent), [entry.c]);
    // As for positions: with no epoch known (the ack of a send answered from its `cid` record
    // names none, and the log may have been lost whole since), the seq is in a log the client
    // cannot name, so it is compared with nothing.
    if (v.epoch === undefined) {
      notePresent(sent);
      return;
    }
    const key = `${entry.c}\u0000${sent.room}\u0000${v.epoch}`;
    const previous = lastSeqOfSender.get(key);
    if (previous !== undefined && sent.ack.seq <= previous) {
      add(
        'sender-order',
        `${entry.c}'s send #${entry.n} in ${sent.room} got seq ${sent.ack.seq}, not above its previous ${previous}`,
        [entry.c],
      );
    }
    lastSeqOfSender.set(key, sent.ack.seq);
    notePresent(sent);
  }

  /**
   * Who was in the room when `sent` was stored: taken at its ack or at the first time a client
   * got it, whichever came first. An ack can reach its sender long after the store (a sender
   * that stopped reading), when clients that joined since are in the room: they never were
   * members "present for it", and a join is not told of holes before it.
   */
  function notePresent(sent: SentMessage): void {
    if (sent.ack === undefined || present.has(sent)) return;
    const members = [...memberOf].filter(([c, room]) => room === sent.room && c !== sent.c);
    present.set(
      sent,
      members.map(([c]) => c),
    );
  }

  function onMessage(
    entry: Extract<Entry, { k: 'msg' }>,
    add: (kind: Violation['kind'], message: string, clients: string[]) => void,
  ): void {
    const sent = model.sends.get(entry.text);
    if (sent === undefined || sent.room !== entry.room) {
      const why = sent === undefined ? 'nobody sent it' : `it was sent to ${sent.room}`;
      add('phantom', `${entry.c} got '${entry.text}' in ${entry.room}: ${why}`, [entry.c]);
      return;
    }
    if (sent.c === entry.c) {
      add('self-echo', `${entry.c} got its own '${entry.text}' (seq ${entry.seq})`, [entry.c]);
    }
    notePresent(sent);
    const v = view(entry.c, entry.room);
    const { conflict, twice } = place(entry.room, v.epoch, entry.seq, entry.id, entry.text);
    if (conflict !== undefined) add('position-conflict', conflict, [entry.c, sent.c]);
    if (twice !== undefined) add('stored-twice', twice + unsureNote(sent), [entry.c, sent.c]);
    if (v.texts.has(entry.text)) {
      add('duplicate', `${entry.c} got '${entry.text}' twice (now at seq ${entry.seq})`, [
        entry.c,
        sent.c,
      ]);
    } else if (entry.seq <= v.last) {
      add(
        'reorder',
        `${entry.c} got seq ${entry.seq} in ${entry.room} after seq ${v.last} ('${entry.text}')`,
        [entry.c, sent.c],
      );
    }
    v.texts.add(entry.text);
    const epoch = v.epoch ?? '?';
    v.maxByEpoch.set(epoch, Math.max(v.maxByEpoch.get(epoch) ?? 0, entry.seq));
    v.last = Math.max(v.last, entry.seq);
  }

  for (const key of [...syncing.keys()]) flush(key);

  // Every acked message reached every member present for it, or it was told it was lost: a
  // member that went past the message's seq (in the same epoch) without either is a violation.
  for (const [sent, members] of present) {
    const ack = sent.ack;
    if (ack === undefined) continue;
    for (const c of members) {
      const v = view(c, sent.room);
      if (v.texts.has(sent.text)) continue;
      if (v.restartedAt > ack.t) continue;
      if (v.lost.some(([from, to]) => from <= ack.seq && ack.seq <= to)) continue;
      const epoch = ack.epoch ?? v.epoch ?? '?';
      if ((v.maxByEpoch.get(epoch) ?? 0) > ack.seq) {
        out.push({
          kind: 'missed',
          message: `${c} was in ${sent.room} when '${sent.text}' (seq ${ack.seq}) was acked, went past it, and neither got it nor was told it was lost`,
          at: ack.at,
          clients: [c, sent.c],
        });
      }
    }
  }
  return out;
}
