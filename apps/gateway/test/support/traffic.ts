import { setTimeout as delay } from 'node:timers/promises';
import type { ChatMessage } from '@chat/protocol';
import type { TestClient } from './client';

/** One message as its sender saw it: first tried at, acked (with its seq) or not. */
export interface Sent {
  text: string;
  sender: string;
  firstTriedAt: number;
  seq?: number;
}

/** One message as a recipient saw it. */
export interface Received {
  text: string;
  seq: number;
  at: number;
}

/** What the ledger found, per recipient and in total. */
export interface TrafficReport {
  /** Messages acked to their senders. */
  acked: number;
  /** Acked messages x recipients: deliveries owed. */
  owed: number;
  /** Of those, delivered (exactly once each, else listed in `duplicates`). */
  delivered: number;
  /** Owed but never delivered: lost (e.g. acked by a master that died before replicating). */
  lost: string[];
  /** `recipient: text` for every delivery beyond the first. */
  duplicates: string[];
  /** `recipient: text` for messages a client got that it had sent itself. */
  echoes: string[];
  /** `seq: a | b` for every position that carried two different messages. */
  reusedSeqs: string[];
  /** `recipient: sender` where a sender's delivered messages came out of order. */
  reordered: string[];
}

/**
 * Clients in one room, each sending continuously (one message in flight per sender, so
 * per-sender order is the send order), and a ledger of what was sent, acked and received. A
 * refused send (UNAVAILABLE while the broker fails over, OUTCOME_UNKNOWN) is retried with the
 * same `cid` until acked, so a message is stored at most once whatever the broker said.
 */
export class Traffic {
  readonly sent: Sent[] = [];
  readonly received = new Map<string, Received[]>();
  /** Refusals by error code, e.g. `{ UNAVAILABLE: 12 }`. */
  readonly refusals: Record<string, number> = {};
  private running = true;
  private readonly loops: Promise<void>[] = [];

  /**
   * @param clients  by user name
   * @param everyMs  pause between one sender's messages (and before a retry). @default 25
   */
  constructor(
    private readonly clients: ReadonlyMap<string, TestClient>,
    private readonly everyMs = 25,
  ) {
    for (const [name, client] of clients) {
      const log: Received[] = [];
      this.received.set(name, log);
      const record = (m: ChatMessage) => log.push({ text: m.text, seq: m.seq, at: Date.now() });
      client.socket.on('message', record);
      client.socket.on('messages', (batch) => batch.forEach(record));
      this.loops.push(this.sendLoop(name, client));
    }
  }

  /** Stops sending; resolves when every sender's message in flight is settled. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** Every acked message from others that `name` has not received yet. */
  missing(name: string): string[] {
    const got = new Set(this.received.get(name)?.map((r) => r.text));
    return this.acked()
      .filter((s) => s.sender !== name && !got.has(s.text))
      .map((s) => s.text);
  }

  acked(): Sent[] {
    return this.sent.filter((s) => s.seq !== undefined);
  }

  report(): TrafficReport {
    const acked = this.acked();
    const duplicates: string[] = [];
    const echoes: string[] = [];
    const reordered: string[] = [];
    const bySeq = new Map<number, Set<string>>();
    let delivered = 0;
    for (const [name, log] of this.received) {
      const counts = new Map<string, number>();
      const lastBySender = new Map<string, number>();
      for (const r of log) {
        counts.set(r.text, (counts.get(r.text) ?? 0) + 1);
        bySeq.set(r.seq, (bySeq.get(r.seq) ?? new Set()).add(r.text));
        const [sender = '', n = '0'] = r.text.split('#');
        if (sender === name) echoes.push(`${name}: ${r.text}`);
        if (Number(n) < (lastBySender.get(sender) ?? -1)) reordered.push(`${name}: ${sender}`);
        lastBySender.set(sender, Number(n));
      }
      for (const [text, count] of counts) {
        if (count > 1) duplicates.push(`${name}: ${text} x${count}`);
      }
      delivered += acked.filter((s) => s.sender !== name && counts.has(s.text)).length;
    }
    const lost = [...this.received.keys()].flatMap((name) =>
      this.missing(name).map((text) => `${name}: ${text}`),
    );
    const reusedSeqs = [...bySeq]
      .filter(([, texts]) => texts.size > 1)
      .map(([seq, texts]) => `${seq}: ${[...texts].join(' | ')}`);
    return {
      acked: acked.length,
      owed: acked.length * (this.clients.size - 1),
      delivered,
      lost,
      duplicates,
      echoes,
      reusedSeqs,
      reordered,
    };
  }

  private async sendLoop(name: string, client: TestClient): Promise<void> {
    for (let n = 0; this.running; n++) {
      const sent: Sent = { text: `${name}#${n}`, sender: name, firstTriedAt: Date.now() };
      this.sent.push(sent);
      while (this.running && sent.seq === undefined) {
        const ack = await client
          .request('send', { text: sent.text, cid: sent.text })
          .catch(() => ({ ok: false as const, error: { code: 'NO_ACK' } }));
        if (ack.ok && 'seq' in ack && typeof ack.seq === 'number') sent.seq = ack.seq;
        else if (!ack.ok) {
          const code = String(ack.error.code);
          this.refusals[code] = (this.refusals[code] ?? 0) + 1;
        }
        // Pacing, not waiting for a condition: a sender that never pauses would starve the box.
        await delay(this.everyMs);
      }
    }
  }
}
