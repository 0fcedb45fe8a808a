import type { Entry, User } from '../history';

/** A send (room message) as its sender issued it, with its ack once it came. */
export interface SentMessage {
  c: string;
  n: number;
  room: string;
  text: string;
  final: boolean;
  /** Index of the op entry. */
  at: number;
  ack?: { seq: number; id: string; epoch?: string; at: number; t: number };
  /** Answered RECORDS_LOST: never acked; it may appear, once. */
  unsure?: true;
}

export interface SentDm {
  c: string;
  n: number;
  to: string;
  text: string;
  at: number;
  acked: boolean;
  /** Answered RECORDS_LOST (see SentMessage.unsure). */
  unsure?: true;
}

/**
 * What the checker knows before judging: who sent what (texts are unique in a run), which user
 * ids each client held, and which client holds each user id. Built from the history alone.
 */
export class HistoryModel {
  readonly sends = new Map<string, SentMessage>();
  /** `<client>#<n>` -> the send that request made. */
  readonly sendByOp = new Map<string, SentMessage>();
  readonly dms = new Map<string, SentDm>();
  /** `<client>#<n>` -> the DM that request made. */
  private readonly dmByOp = new Map<string, SentDm>();
  /** user id -> the client that was welcomed with it. */
  readonly clientOf = new Map<number, string>();
  /** client -> every user id it was welcomed with. */
  readonly idsOf = new Map<string, Set<number>>();

  constructor(readonly entries: readonly Entry[]) {
    const pending = this.sendByOp;
    entries.forEach((entry, at) => {
      if (entry.k === 'welcome') this.welcomed(entry.c, entry.user);
      if (entry.k === 'op' && entry.op === 'send' && entry.text !== undefined) {
        const sent: SentMessage = {
          c: entry.c,
          n: entry.n,
          room: entry.room ?? '',
          text: entry.text,
          final: entry.final === true,
          at,
        };
        this.sends.set(entry.text, sent);
        pending.set(`${entry.c}#${entry.n}`, sent);
      }
      if (entry.k === 'op' && entry.op === 'dm' && entry.text !== undefined) {
        const dm = { c: entry.c, n: entry.n, to: entry.to ?? '', text: entry.text, at };
        const sent = { ...dm, acked: false };
        this.dms.set(entry.text, sent);
        this.dmByOp.set(`${entry.c}#${entry.n}`, sent);
      }
      if (entry.k === 'unsure') this.unsure(entry.c, entry.n, entry.op);
      if (entry.k === 'ok' && entry.op === 'send') {
        const sent = pending.get(`${entry.c}#${entry.n}`);
        if (sent !== undefined && entry.seq !== undefined && entry.id !== undefined) {
          sent.ack = { seq: entry.seq, id: entry.id, at, t: entry.t };
          if (entry.epoch !== undefined) sent.ack.epoch = entry.epoch;
        }
      }
    });
  }

  private unsure(c: string, n: number, op: string): void {
    const sent = op === 'send' ? this.sendByOp.get(`${c}#${n}`) : this.dmByOp.get(`${c}#${n}`);
    if (sent !== undefined) sent.unsure = true;
  }

  private welcomed(c: string, user: User): void {
    this.clientOf.set(user.id, c);
    const ids = this.idsOf.get(c) ?? new Set<number>();
    ids.add(user.id);
    this.idsOf.set(c, ids);
  }

  /** Whether `user` is (one of the identities of) client `c`. */
  is(c: string, user: User): boolean {
    return this.idsOf.get(c)?.has(user.id) === true;
  }
}

/** What a `stored-twice` adds for a send its sender was told RECORDS_LOST about. */
export function unsureNote(sent: { unsure?: true }): string {
  return sent.unsure === true ? ' (a retry was answered RECORDS_LOST: it may be stored once)' : '';
}
