import type { Entry } from '../history';
import type { HistoryModel } from './model';
import type { Violation } from './violation';

/** Client-side faults after which a session may be dropped (`left`, reason disconnected). */
const CLIENT_FAULTS = ['client-latency', 'client-stall', 'client-reset', 'slow-reader'];
/** Faults after which a node may be declared dead: its process, or its link to the broker. */
const NODE_FAULTS = ['gw-kill', 'gw-term', 'redis-latency', 'redis-stall', 'redis-reset'];

/**
 * Names are unique among online users at every instant (two connected clients welcomed with
 * one name, or one `who` listing a name twice), and `left` is announced only for users who
 * quit, moved, lost their connection (past the grace period) or whose node died.
 */
export function checkPresence(model: HistoryModel): Violation[] {
  const out: Violation[] = [];
  const holders = new Map<string, { c: string; id: number }>();
  /** What each client went through so far: the allowances for a `left` about it. */
  const quit = new Set<string>();
  const moved = new Map<string, Set<string>>();
  const dropped = new Set<string>();
  const nodesOf = new Map<string, Set<string>>();
  const faultedNodes = new Set<string>();
  let brokerFault = false;
  /** `<id>|<name>` -> the client last welcomed as that user (so far in the history). */
  const holderOf = new Map<string, string>();

  const release = (c: string) => {
    for (const [name, holder] of holders) if (holder.c === c) holders.delete(name);
  };
  model.entries.forEach((entry, at) => {
    const add = (kind: Violation['kind'], message: string, clients: string[]) =>
      out.push({ kind, message, at, clients });
    switch (entry.k) {
      case 'welcome': {
        holderOf.set(`${entry.user.id}|${entry.user.name}`, entry.c);
        const key = entry.user.name.toLowerCase();
        const holder = holders.get(key);
        if (holder !== undefined && holder.c !== entry.c && holder.id !== entry.user.id) {
          add(
            'name-twice',
            `${entry.c} was welcomed as '${entry.user.name}' (id ${entry.user.id}) while ${holder.c} (id ${holder.id}) held it online`,
            [entry.c, holder.c],
          );
        }
        release(entry.c);
        holders.set(key, { c: entry.c, id: entry.user.id });
        const nodes = nodesOf.get(entry.c) ?? new Set<string>();
        nodes.add(entry.node);
        nodesOf.set(entry.c, nodes);
        break;
      }
      case 'lost':
        release(entry.c);
        dropped.add(entry.c);
        break;
      case 'end':
        release(entry.c);
        dropped.add(entry.c);
        quit.add(entry.c);
        break;
      case 'op':
        if (entry.op === 'quit') quit.add(entry.c);
        if (entry.op === 'reconnect') dropped.add(entry.c);
        if (entry.op === 'join' && entry.room !== undefined) {
          const rooms = moved.get(entry.c) ?? new Set<string>();
          rooms.add(entry.room);
          moved.set(entry.c, rooms);
        }
        break;
      case 'ok':
        if (entry.op === 'who' && entry.members !== undefined) {
          const names = entry.members.map((m) => m.name.toLowerCase());
          const twice = names.find((name, i) => names.indexOf(name) !== i);
          if (twice !== undefined) {
            add('name-twice', `${entry.c}'s who lists '${twice}' twice`, [entry.c]);
          }
        }
        break;
      case 'fault':
        if (entry.phase !== 'start') break;
        if (CLIENT_FAULTS.includes(entry.kind)) dropped.add(entry.target);
        else if (NODE_FAULTS.includes(entry.kind) && entry.node !== undefined) {
          faultedNodes.add(entry.node);
        } else if (entry.kind.startsWith('redis-') || entry.kind === 'failover') brokerFault = true;
        break;
      case 'left': {
        const why = leftAllowed(entry);
        if (why !== undefined)
          add('bad-left', why, [entry.c, model.clientOf.get(entry.user.id) ?? entry.c]);
        break;
      }
      default:
        break;
    }
  });

  function leftAllowed(entry: Extract<Entry, { k: 'left' }>): string | undefined {
    const c =
      holderOf.get(`${entry.user.id}|${entry.user.name}`) ?? model.clientOf.get(entry.user.id);
    const about = `${entry.c} saw '${entry.user.name}' (id ${entry.user.id}) leave ${entry.room} (${entry.reason})`;
    if (c === undefined) return `${about}: no client was ever that user`;
    const rooms = moved.get(c);
    const movedAway = rooms !== undefined && [...rooms].some((room) => room !== entry.room);
    const nodeDied = [...(nodesOf.get(c) ?? [])].some((node) => faultedNodes.has(node));
    const ok =
      (entry.reason === 'quit' && quit.has(c)) ||
      (entry.reason === 'moved' && movedAway) ||
      (entry.reason === 'disconnected' && (dropped.has(c) || quit.has(c) || nodeDied)) ||
      (entry.reason === 'node-failure' && (nodeDied || brokerFault));
    return ok ? undefined : `${about}, but ${c} did nothing of the kind`;
  }
  return out;
}
