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
  /** Client -> the name it asked for, until its first welcome. */
  const unwelcomed = new Map<string, string>();
  /**
   * Names (lower case) a client asked for and lost its connection, or gave up, before any
   * welcome: a node may have taken the hello and made that user, whose welcome never arrived.
   */
  const orphanNames = new Set<string>();
  /** Client -> its join not answered yet (request number and room). */
  const joining = new Map<string, { n: number; room: string }>();
  /**
   * `<client>|<room>`: a join the client lost its connection under, unanswered. The node may
   * have moved it there; its resume into the room it thinks it is in then moves it out again.
   */
  const joinedUnsure = new Set<string>();

  const release = (c: string) => {
    for (const [name, holder] of holders) if (holder.c === c) holders.delete(name);
  };
  model.entries.forEach((entry, at) => {
    const add = (kind: Violation['kind'], message: string, clients: string[]) =>
      out.push({ kind, message, at, clients });
    switch (entry.k) {
      case 'start':
        unwelcomed.set(entry.c, entry.name.toLowerCase());
        break;
      case 'welcome': {
        unwelcomed.delete(entry.c);
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
      case 'lost': {
        release(entry.c);
        dropped.add(entry.c);
        const join = joining.get(entry.c);
        if (join !== undefined) joinedUnsure.add(`${entry.c}|${join.room}`);
        const name = unwelcomed.get(entry.c);
        if (name !== undefined) orphanNames.add(name);
        break;
      }
      case 'end': {
        release(entry.c);
        dropped.add(entry.c);
        quit.add(entry.c);
        // Gave up before any welcome (e.g. a retry of its hello refused NAME_TAKEN by the
        // session its first, unanswered hello made): that user is an orphan too.
        const name = unwelcomed.get(entry.c);
        if (name !== undefined) orphanNames.add(name);
        break;
      }
      case 'op':
        if (entry.op === 'quit') quit.add(entry.c);
        if (entry.op === 'reconnect') dropped.add(entry.c);
        if (entry.op === 'join' && entry.room !== undefined) {
          addTo(moved, entry.c, entry.room);
          joining.set(entry.c, { n: entry.n, room: entry.room });
        }
        break;
      case 'fail':
        if (joining.get(entry.c)?.n === entry.n) joining.delete(entry.c);
        break;
      case 'ok':
        if (joining.get(entry.c)?.n === entry.n) joining.delete(entry.c);
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
    if (c === undefined) {
      // Its node died, or its connection dropped, before the welcome reached the client.
      const orphan =
        orphanNames.has(entry.user.name.toLowerCase()) &&
        (entry.reason === 'disconnected' ||
          (entry.reason === 'node-failure' && (faultedNodes.size > 0 || brokerFault)));
      return orphan ? undefined : `${about}: no client was ever that user`;
    }
    const rooms = moved.get(c);
    const movedAway =
      (rooms !== undefined && [...rooms].some((room) => room !== entry.room)) ||
      joinedUnsure.has(`${c}|${entry.room}`);
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

function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key) ?? new Set<string>();
  set.add(value);
  map.set(key, set);
}
