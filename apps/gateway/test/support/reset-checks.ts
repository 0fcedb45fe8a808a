import type { ChatMessage } from '@chat/protocol';
import { expect } from 'vitest';
import { eventually } from './client';
import { at, type RunningGateway } from './cluster';

/** What the broker-loss tests share: a conversation with a ledger, and what it must show. */

export interface Sender {
  send(text: string, extra?: { cid?: string }): Promise<unknown>;
}

/** The key prefix redisCluster gave the nodes (their ids are `<prefix>-n<i>`). */
export function prefixOf(node: RunningGateway): string {
  return node.nodeId.slice(0, node.nodeId.lastIndexOf('-'));
}

/**
 * Sends `count` messages named `<tag><n>`, taking turns among `senders`; returns who sent what.
 * A refused send is retried with its cid (the text), as the CLI does: right after a loss the
 * cluster refuses sends (UNAVAILABLE, nothing stored) until every node has restored its rooms.
 */
export async function converse(
  senders: [string, Sender][],
  tag: string,
  from: number,
  count: number,
  sent: Map<string, string>,
): Promise<string[]> {
  const texts: string[] = [];
  for (let i = 0; i < count; i++) {
    const [name, sender] = at(senders, i % senders.length);
    const text = `${tag}${from + i}`;
    await sendUntilStored(sender, text);
    sent.set(text, name);
    texts.push(text);
  }
  return texts;
}

/**
 * Sends `text` with itself as its cid until it is stored (right after a loss the cluster refuses
 * sends, UNAVAILABLE, nothing stored, until every node has restored its rooms); the ack.
 */
export async function sendUntilStored<R>(
  sender: { send(text: string, extra?: { cid?: string }): Promise<R> },
  text: string,
): Promise<R> {
  let ack: { value: R } | undefined;
  await eventually(async () => {
    ack = { value: await sender.send(text, { cid: text }) };
  }, 15_000);
  if (ack === undefined) throw new Error(`${text} was not stored`);
  return ack.value;
}

/** No message twice to one client, and no (epoch, seq) position given to two messages. */
export function expectPositionsUnique(received: ChatMessage[][]): void {
  for (const messages of received) {
    expect(new Set(messages.map((m) => m.id)).size).toBe(messages.length);
  }
  const bySeq = new Map<string, string>();
  for (const m of received.flat()) {
    const key = `${m.room}#${m.seq}`;
    expect(bySeq.get(key) ?? m.id, `two messages at ${key}`).toBe(m.id);
    bySeq.set(key, m.id);
  }
}

/** Everything in `all` that `name` did not send, in order. */
export const othersOf = (all: string[], sent: Map<string, string>, name: string) =>
  all.filter((text) => sent.get(text) !== name);

/** Presence lines (`x joined`, `x left`) of a client from line `from` on. */
export const notices = (lines: string[], from = 0) =>
  lines.slice(from).filter((l) => l.endsWith(' joined') || l.endsWith(' left'));
