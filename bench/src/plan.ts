import type { ClientSpec } from './generator/protocol';

/** Where every client of a scenario goes: its room, its server, its generator. */
export interface PlanOptions {
  rooms: number;
  roomSize: number;
  /** Server processes of the system (1 for the in-memory baseline). */
  nodes: number;
  generators: number;
  /**
   * `spread`: a room's members are dealt over all nodes (any client on any node);
   * `local`: all members of a room are on one node, rooms dealt over the nodes.
   */
  placement: 'spread' | 'local';
  /** Clients per room that stop reading (S4); they never send. @default 0 */
  slowPerRoom?: number[];
  /** Clients ask for `messages` batches. @default false */
  batch?: boolean;
  /** Clients on these nodes never send (S6: the node killed in the reconnect storm). */
  quietNodes?: number[];
  /** Clients connect from 127.0.0.1 … 127.0.0.<sources>, in turn. @default 1 (the OS picks) */
  sources?: number;
  /** A client whose connection drops comes back to another node (S6). @default false */
  failover?: boolean;
}

export interface PlannedClient extends ClientSpec {
  gen: number;
  node: number;
}

export interface Plan {
  options: PlanOptions;
  clients: PlannedClient[];
  /** Deliveries each message of room r should get: its members but the sender. */
  expectedPerRoom: number[];
  /** The same while the slow clients do not read (they are not counted). */
  expectedPerRoomSlow: number[];
  /** Sending clients per generator (the rate is split in proportion). */
  sendersPerGen: number[];
  /** node → room indexes with members there. */
  roomsOfNode: Set<number>[];
}

export function roomName(index: number): string {
  return `bench-${index}`;
}

export function makePlan(options: PlanOptions, urls: string[]): Plan {
  const clients: PlannedClient[] = [];
  const nodes = urls.length;
  const roomsOfNode = Array.from({ length: nodes }, () => new Set<number>());
  const expectedPerRoom: number[] = [];
  const expectedPerRoomSlow: number[] = [];
  for (let r = 0; r < options.rooms; r++) {
    const slow = options.slowPerRoom?.[r] ?? 0;
    expectedPerRoom.push(options.roomSize - 1);
    expectedPerRoomSlow.push(options.roomSize - 1 - slow);
    for (let j = 0; j < options.roomSize; j++) {
      const index = clients.length;
      const node = options.placement === 'local' ? r % nodes : (r * options.roomSize + j) % nodes;
      const isSlow = j < slow;
      const sources = options.sources ?? 1;
      roomsOfNode[node]?.add(r);
      clients.push({
        url: urls[node] ?? '',
        room: roomName(r),
        roomIdx: r,
        sender: !isSlow && !(options.quietNodes ?? []).includes(node),
        slow: isSlow,
        batch: options.batch ?? false,
        gen: index % options.generators,
        node,
        ...(sources > 1 ? { localAddress: `127.0.0.${1 + (index % sources)}` } : {}),
        ...(options.failover ? { fallbackUrls: urls.filter((_, n) => n !== node) } : {}),
      });
    }
  }
  const sendersPerGen = Array.from(
    { length: options.generators },
    (_, g) => clients.filter((c) => c.gen === g && c.sender).length,
  );
  return { options, clients, expectedPerRoom, expectedPerRoomSlow, sendersPerGen, roomsOfNode };
}
