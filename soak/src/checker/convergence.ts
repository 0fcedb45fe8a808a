import type { HistoryModel } from './model';
import type { Violation } from './violation';

/**
 * After the faults stop, every client converges: each live client sends one final message,
 * and every other live member of that room must have it within the bound the run announced
 * (`quiet.boundMs`, counted from the end of the faults).
 */
export function checkConvergence(model: HistoryModel): Violation[] {
  const entries = model.entries;
  const quietAt = entries.findIndex((e) => e.k === 'quiet');
  const quiet = entries[quietAt];
  if (quiet?.k !== 'quiet') return [];
  const deadline = quiet.t + quiet.boundMs;
  const out: Violation[] = [];
  const ended = new Set<string>();
  const roomOf = new Map<string, string>();
  const got = new Map<string, number>();
  entries.forEach((e) => {
    if (e.k === 'end' || (e.k === 'op' && e.op === 'quit')) ended.add(e.c);
    if (e.k === 'welcome') roomOf.set(e.c, e.room);
    if (e.k === 'ok' && e.op === 'join' && e.room !== undefined) roomOf.set(e.c, e.room);
    if (e.k === 'msg' && !got.has(`${e.c}\u0000${e.text}`)) got.set(`${e.c}\u0000${e.text}`, e.t);
  });
  const finals = [...model.sends.values()].filter((s) => s.final);
  for (const sent of finals) {
    if (sent.ack === undefined || sent.ack.t > deadline) {
      out.push({
        kind: 'no-convergence',
        message: `${sent.c}'s final message in ${sent.room} was not acked within ${quiet.boundMs} ms of the faults' end`,
        at: sent.at,
        clients: [sent.c],
      });
      continue;
    }
    for (const [c, room] of roomOf) {
      if (c === sent.c || ended.has(c) || room !== sent.room) continue;
      const t = got.get(`${c}\u0000${sent.text}`);
      if (t === undefined || t > deadline) {
        out.push({
          kind: 'no-convergence',
          message: `${c} (in ${room}) ${t === undefined ? 'never got' : `got only at ${t} ms`} ${sent.c}'s final message '${sent.text}' (bound: ${deadline} ms)`,
          at: sent.ack.at,
          clients: [c, sent.c],
        });
      }
    }
  }
  return out;
}
