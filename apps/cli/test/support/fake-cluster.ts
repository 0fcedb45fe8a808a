import {
  chatError,
  nameKey,
  parseDm,
  parseHandshake,
  parseJoin,
  parseSend,
  PROTOCOL_VERSION,
  DEFAULT_ROOM,
  type ChatError,
  type ChatMessage,
  type ClientToServerEvents,
  type DirectMessage,
  type Handshake,
  type SendRequest,
  type ServerToClientEvents,
  type UserRef,
} from '@chat/protocol';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket } from 'socket.io';

/**
 * A stand-in for the real gateway cluster, just faithful enough to exercise the CLI: several
 * nodes sharing one in-memory state (ids, names, per-room seqs and history, `cid` dedup,
 * resume tokens), as gateways share Redis. It records what clients sent so tests can assert
 * on the wire, and has knobs for the faults the CLI must survive.
 */

interface SocketData {
  user: UserRef;
  room: string;
  since: number | undefined;
  resumed: boolean;
  /** Asked for `messages` batches: live room messages go out as arrays of one, like a gateway. */
  batch: boolean;
}
type FakeServer = Server<ClientToServerEvents, ServerToClientEvents, object, SocketData>;
type FakeSocket = Socket<ClientToServerEvents, ServerToClientEvents, object, SocketData>;

export interface FakeNode {
  readonly id: string;
  readonly url: string;
  /** Every handshake `auth` this node received, valid or not. */
  readonly handshakes: unknown[];
  /** Every `send` payload this node received, retries included. */
  readonly sends: SendRequest[];
  /** Every `join` payload this node received. */
  readonly joins: unknown[];
  /** Refuse every connection with this error. */
  rejectWith: ChatError | undefined;
  /** Store and relay sends but never ack them (an ack lost with a dying node). */
  holdAcks: boolean;
  /** Answer this many sends with RATE_LIMITED before accepting any. */
  rateLimit: number;
  /** DMs every connection is given after its `synced`, as a gateway's DM catch-up would. */
  catchUp: DirectMessage[];
  /** Crash: close every connection at once, without `draining`. */
  kill(): Promise<void>;
  /** Graceful shutdown: `draining`, then close once every client has gone or after `graceMs`. */
  drain(retryInMs: number, graceMs: number): Promise<void>;
}

export class FakeCluster {
  readonly nodes: FakeNode[] = [];
  private nextUser = 1;
  private readonly servers: FakeServer[] = [];
  private readonly resume = new Map<string, UserRef>();
  private readonly rooms = new Map<string, ChatMessage[]>();
  private readonly cids = new Map<string, { id: string; seq: number }>();
  /** The broker's data generation, in every `welcome`. */
  private generation = 'g1';

  /** Starts a node on `port` (default: any free one), sharing the cluster's state. */
  async start(id: string, port = 0): Promise<FakeNode> {
    const http = createServer();
    await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
    const { port: bound } = http.address() as AddressInfo;
    const io: FakeServer = new Server(http, { transports: ['websocket'] });
    const node = this.makeNode(id, `http://127.0.0.1:${bound}`, io);
    io.use((socket, next) => {
      node.handshakes.push(socket.handshake.auth);
      const refusal = node.rejectWith ?? this.admit(socket);
      if (refusal === undefined) return next();
      next(Object.assign(new Error(refusal.message), { data: refusal }));
    });
    io.on('connection', (socket) => this.serve(node, socket));
    this.servers.push(io);
    this.nodes.push(node);
    return node;
  }

  async close(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.kill()));
  }

  /** The shared state loses its `cid` records, as Redis losing its data: a new generation. */
  forgetRecords(): void {
    this.cids.clear();
    this.generation = `g${Number(this.generation.slice(1)) + 1}`;
  }

  /** Every node tells its connected clients the current generation (protocol `generation`). */
  tellGeneration(): void {
    for (const io of this.servers) io.emit('generation', { generation: this.generation });
  }

  /** Messages stored in `room`, in seq order. */
  history(room: string): ChatMessage[] {
    return this.rooms.get(room) ?? [];
  }

  private makeNode(id: string, url: string, io: FakeServer): FakeNode {
    let closed: Promise<void> | undefined;
    const close = (): Promise<void> =>
      (closed ??= new Promise<void>((resolve) => {
        const index = this.servers.indexOf(io);
        if (index >= 0) this.servers.splice(index, 1);
        void io.close(() => resolve());
      }));
    return {
      id,
      url,
      handshakes: [],
      sends: [],
      joins: [],
      rejectWith: undefined,
      holdAcks: false,
      rateLimit: 0,
      catchUp: [],
      kill: close,
      async drain(retryInMs, graceMs) {
        io.emit('draining', { retryInMs });
        const deadline = Date.now() + graceMs;
        while (io.sockets.sockets.size > 0 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        await close();
      },
    };
  }

  /** Validates the handshake and picks the user, as a gateway's registry would. */
  private admit(socket: FakeSocket): ChatError | undefined {
    const parsed = parseHandshake(socket.handshake.auth);
    if (!parsed.ok) return parsed.error;
    const auth: Handshake = parsed.value;
    const resumed = auth.resume === undefined ? undefined : this.resume.get(auth.resume);
    if (auth.resume !== undefined && resumed === undefined) return chatError('UNAUTHORIZED');
    let user = resumed;
    if (user === undefined) {
      if (auth.name !== undefined && this.online(auth.name)) return chatError('NAME_TAKEN');
      const id = this.nextUser++;
      user = { id, name: auth.name ?? `User ${id}` };
    }
    socket.data = {
      user,
      room: auth.room ?? DEFAULT_ROOM,
      since: auth.since,
      resumed: resumed !== undefined,
      batch: auth.batch === true,
    };
    return undefined;
  }

  private online(name: string): boolean {
    return this.sockets().some((s) => nameKey(s.data.user.name) === nameKey(name));
  }

  private sockets(room?: string): FakeSocket[] {
    return this.servers
      .flatMap((io) => [...io.sockets.sockets.values()])
      .filter((s) => room === undefined || s.data.room === room);
  }

  /** Emits to every socket in `room` on every live node, except the one at `except`. */
  private relay<E extends keyof ServerToClientEvents>(
    room: string,
    except: FakeSocket | undefined,
    event: E,
    ...args: Parameters<ServerToClientEvents[E]>
  ): void {
    for (const s of this.sockets(room)) if (s !== except) s.emit(event, ...args);
  }

  /** Sends what `socket` missed in its room (never its own messages), then `synced`. */
  private enter(socket: FakeSocket, since: number | undefined): void {
    const { room, user } = socket.data;
    const stored = this.history(room);
    const seq = stored.at(-1)?.seq ?? 0;
    const missed = stored.filter(
      (m) => (since === undefined || m.seq > since) && m.from.id !== user.id,
    );
    for (const m of missed) socket.emit('message', { ...m, history: true });
    socket.emit('synced', { room, seq, replayed: missed.length, lost: 0 });
  }

  private serve(node: FakeNode, socket: FakeSocket): void {
    const { user, resumed } = socket.data;
    const token = `resume-${user.id}-${Math.random().toString(36).slice(2)}`;
    this.resume.set(token, user);
    socket.emit('welcome', {
      v: PROTOCOL_VERSION,
      user,
      node: node.id,
      room: socket.data.room,
      resumeToken: token,
      generation: this.generation,
    });
    this.enter(socket, socket.data.since);
    for (const dm of node.catchUp) socket.emit('dm', { ...dm, offline: true });
    if (!resumed) this.relay(socket.data.room, socket, 'joined', { room: socket.data.room, user });

    socket.on('send', (payload, ack) => {
      node.sends.push(payload);
      const req = parseSend(payload);
      if (!req.ok) return ack({ ok: false, error: req.error });
      if (node.rateLimit > 0) {
        node.rateLimit--;
        return ack({ ok: false, error: chatError('RATE_LIMITED') });
      }
      const room = socket.data.room;
      if (req.value.room !== undefined && req.value.room !== room) {
        return ack({ ok: false, error: chatError('NOT_JOINED') });
      }
      const key = `${user.id}:${req.value.cid ?? Math.random()}`;
      let stored = this.cids.get(key);
      const { generation } = req.value;
      if (stored === undefined && generation !== undefined && generation !== this.generation) {
        return ack({ ok: false, error: chatError('RECORDS_LOST') });
      }
      if (stored === undefined) {
        const messages = this.history(room);
        const seq = (messages.at(-1)?.seq ?? 0) + 1;
        const message = {
          id: `m${seq}`,
          room,
          seq,
          from: user,
          text: req.value.text,
          ts: Date.now(),
        };
        this.rooms.set(room, [...messages, message]);
        stored = { id: message.id, seq };
        this.cids.set(key, stored);
        for (const s of this.sockets(room)) {
          if (s === socket) continue;
          if (s.data.batch) s.emit('messages', [message]);
          else s.emit('message', message);
        }
      }
      if (!node.holdAcks) ack({ ok: true, ...stored });
    });

    socket.on('join', (payload, ack) => {
      node.joins.push(payload);
      const req = parseJoin(payload);
      if (!req.ok) return ack({ ok: false, error: req.error });
      const from = socket.data.room;
      this.relay(from, socket, 'left', { room: from, user, reason: 'moved' });
      socket.data.room = req.value.room;
      const seq = this.history(req.value.room).at(-1)?.seq ?? 0;
      ack({ ok: true, room: req.value.room, seq });
      this.enter(socket, req.value.since);
      this.relay(req.value.room, socket, 'joined', { room: req.value.room, user });
    });

    socket.on('dm', (payload, ack) => {
      const req = parseDm(payload);
      if (!req.ok) return ack({ ok: false, error: req.error });
      const to = this.sockets().find((s) => nameKey(s.data.user.name) === nameKey(req.value.to));
      if (to === undefined) return ack({ ok: false, error: chatError('USER_NOT_FOUND') });
      const dm = {
        id: `d${Date.now()}`,
        from: user,
        to: to.data.user,
        text: req.value.text,
        ts: 0,
        conversation: `${Math.min(user.id, to.data.user.id)}-${Math.max(user.id, to.data.user.id)}`,
        seq: 1,
      };
      to.emit('dm', dm);
      ack({ ok: true, id: dm.id, to: dm.to, conversation: dm.conversation, seq: dm.seq });
    });

    socket.on('who', (_payload, ack) => {
      const room = socket.data.room;
      ack({ ok: true, room, members: this.sockets(room).map((s) => s.data.user) });
    });

    socket.on('rooms', (_payload, ack) => {
      const counts = new Map<string, number>();
      for (const s of this.sockets()) counts.set(s.data.room, (counts.get(s.data.room) ?? 0) + 1);
      ack({ ok: true, rooms: [...counts].map(([room, members]) => ({ room, members })) });
    });

    // Only a deliberate leave is announced: a dropped connection is expected to resume on
    // another node, and a real gateway's grace period is out of scope here.
    socket.on('disconnect', (reason) => {
      if (reason !== 'client namespace disconnect') return;
      this.relay(socket.data.room, socket, 'left', {
        room: socket.data.room,
        user,
        reason: 'quit',
      });
    });
  }
}
