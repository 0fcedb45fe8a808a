import { unsureNote, type HistoryModel } from './model';
import type { Violation } from './violation';

/**
 * DMs reach only their recipient's sessions (never the sending one, never a third user), each
 * once, and a DM is one stored message (one conversation position), whatever was retried.
 */
export function checkDms(model: HistoryModel): Violation[] {
  const out: Violation[] = [];
  const seenBy = new Map<string, Set<string>>();
  const positionOf = new Map<string, string>();
  model.entries.forEach((entry, at) => {
    if (entry.k !== 'dm') return;
    const add = (kind: Violation['kind'], message: string, clients: string[]) =>
      out.push({ kind, message, at, clients });
    const sent = model.dms.get(entry.text);
    const sender = sent?.c;
    if (sent === undefined || sender === undefined || !model.is(sender, entry.from)) {
      add('phantom', `${entry.c} got DM '${entry.text}' that ${entry.from.name} never sent`, [
        entry.c,
      ]);
      return;
    }
    if (!model.is(entry.c, entry.to)) {
      const whose = model.is(entry.c, entry.from) ? 'its own sending session' : 'a third user';
      add(
        'dm-misdelivered',
        `${entry.c} got DM '${entry.text}' for ${entry.to.name} (${entry.to.id}): ${whose}`,
        [entry.c, sender],
      );
    }
    const seen = seenBy.get(entry.c) ?? new Set<string>();
    if (seen.has(entry.text)) {
      add('dm-duplicate', `${entry.c} got DM '${entry.text}' twice`, [entry.c, sender]);
    }
    seen.add(entry.text);
    seenBy.set(entry.c, seen);
    const position = `${entry.conversation} seq ${entry.seq}`;
    const before = positionOf.get(entry.text);
    if (before !== undefined && before !== position) {
      add(
        'stored-twice',
        `DM '${entry.text}' is at ${before} and at ${position}${unsureNote(sent)}`,
        [entry.c, sender],
      );
    }
    positionOf.set(entry.text, before ?? position);
  });
  return out;
}
