import { createWriteStream, type WriteStream } from 'node:fs';

/**
 * The recorded history of a soak: one JSON object per line, in the order the harness observed
 * things (one process, so this is a real-time order). `t` is milliseconds since the run began,
 * `c` the client that did or saw it (`h` for the harness itself: faults and phases).
 *
 * This file is the checker's whole input. It names what the protocol says (rooms, seqs, users,
 * notices), never anything of the gateway's code.
 */
export interface User {
  id: number;
  name: string;
}

export type OpKind = 'send' | 'join' | 'dm' | 'who' | 'quit' | 'reconnect';

export type Entry =
  /** A client was created (a fresh session: a new user unless it resumes). */
  | { t: number; c: string; k: 'start'; name: string; room: string }
  | { t: number; c: string; k: 'welcome'; node: string; user: User; room: string; again: boolean }
  | { t: number; c: string; k: 'lost'; node: string; reason: string }
  /** The client's session is over: `quit`, `rejected` (NAME_TAKEN, ...) or `unreachable`. */
  | { t: number; c: string; k: 'end'; how: string; detail: string }
  /** A request issued; `n` numbers the client's requests. `text` is unique in the run. */
  | {
      t: number;
      c: string;
      k: 'op';
      n: number;
      op: OpKind;
      room?: string;
      text?: string;
      to?: string;
      final?: true;
    }
  /** The request's ack. */
  | {
      t: number;
      c: string;
      k: 'ok';
      n: number;
      op: OpKind;
      room?: string;
      seq?: number;
      id?: string;
      /** A send's ack: the room log's epoch (absent when the send was a duplicate). */
      epoch?: string;
      conversation?: string;
      members?: User[];
    }
  | { t: number; c: string; k: 'fail'; n: number; op: OpKind; code: string; message: string }
  /**
   * A send or DM refused with RECORDS_LOST: the broker lost its records since the first try, so
   * it is neither acked nor failed: it may have been stored then (at most once), or not.
   */
  | { t: number; c: string; k: 'unsure'; n: number; op: OpKind; message: string }
  | {
      t: number;
      c: string;
      k: 'msg';
      node: string;
      room: string;
      seq: number;
      id: string;
      from: User;
      text: string;
      history?: true;
    }
  | {
      t: number;
      c: string;
      k: 'dm';
      node: string;
      conversation: string;
      seq: number;
      id: string;
      from: User;
      to: User;
      text: string;
    }
  | { t: number; c: string; k: 'joined'; node: string; room: string; user: User }
  | {
      t: number;
      c: string;
      k: 'left';
      node: string;
      room: string;
      user: User;
      reason: string;
      to?: string;
    }
  | {
      t: number;
      c: string;
      k: 'synced';
      node: string;
      room: string;
      seq: number;
      lost: number;
      epoch?: string;
      restarted?: true;
    }
  | { t: number; c: string; k: 'gap'; node: string; room: string; from: number; to: number }
  /** A fault begins (`phase: start`) or has been undone (`heal`). `id` pairs the two. */
  | {
      t: number;
      c: 'h';
      k: 'fault';
      id: number;
      kind: string;
      target: string;
      phase: 'start' | 'heal';
      node?: string;
    }
  /** Faults have stopped; the final sends follow. `boundMs`: how long convergence may take. */
  | { t: number; c: 'h'; k: 'quiet'; boundMs: number }
  | { t: number; c: 'h'; k: 'finish' };

export type Kind = Entry['k'];
/** Distributes over the union, so an entry can be built without its `t`. */
export type Draft = Entry extends infer E ? (E extends Entry ? Omit<E, 't'> : never) : never;

/** Keeps the history in memory for the checker and streams it to a JSON-lines file. */
export class Recorder {
  readonly entries: Entry[] = [];
  private readonly out: WriteStream | undefined;
  private readonly t0 = Date.now();

  constructor(file?: string) {
    this.out = file === undefined ? undefined : createWriteStream(file);
  }

  now(): number {
    return Date.now() - this.t0;
  }

  add(draft: Draft): Entry {
    const entry = { t: this.now(), ...draft } as Entry;
    this.entries.push(entry);
    this.out?.write(`${JSON.stringify(entry)}\n`);
    return entry;
  }

  close(): Promise<void> {
    const out = this.out;
    if (out === undefined) return Promise.resolve();
    return new Promise((resolve) => out.end(resolve));
  }
}

/** Reads a history file back (for `--check FILE`). */
export function parseHistory(text: string): Entry[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Entry);
}
