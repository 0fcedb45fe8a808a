import {
  EARLIER_PAGE,
  EarlierDms,
  PROTOCOL_VERSION,
  SeqTracker,
  isChatError,
  type Ack,
  type ChatError,
  type ChatMessage,
  type ClientToServerEvents,
  type Handshake,
  type JoinRequest,
  type ServerToClientEvents,
  type Synced,
  type UserRef,
} from '@chat/protocol';
import { io, type Socket } from 'socket.io-client';
import { EarlierLoader } from './earlier';
import { Outbox, type OutgoingLine } from './outbox';
import type { SessionEvent, SessionOptions } from './session-event';

type ChatSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Refusals after which nothing was stored (see OutgoingLine.firstGeneration). */
const NOTHING_STORED: ReadonlySet<string> = new Set(['UNAVAILABLE', 'RATE_LIMITED']);

/** How long an unanswered send waits before it is resent (same `cid`, so stored once). */
const ACK_TIMEOUT_MS = 15_000;
/** Retry delay when a retryable refusal gives no `retryInMs`. */
const RETRY_MS = 1_000;

/**
 * One chat session of the page, across reconnects. It follows the protocol README: every
 * (re)connect sends `resume` and, for the current room, the last contiguous seq seen as `since`,
 * so the replay has no gap and no duplicate (`SeqTracker`); a message whose seq was already
 * seen shows nothing. Typed lines go through the `Outbox` with a `cid` and are resent after a
 * lost connection until acked. socket.io-client reconnects on transport loss by itself; after a
 * server-side close (draining) or a retryable refusal this class asks it to.
 */
export class ChatSession {
  private readonly socket: ChatSocket;
  private readonly seqs = new SeqTracker();
  private readonly outbox = new Outbox();
  private resumeToken: string | undefined;
  private welcomed = false;
  /** The broker's data generation, from the latest `welcome` (see OutgoingLine). */
  private brokerGeneration: string | undefined;
  private room: string;
  /** The room a `join` is moving to, until its `synced` (or refusal). */
  private joining: string | undefined;
  /** Connected and synced: typed lines may go out. */
  private ready = false;
  /** Bumped on every disconnect, so acks of an old connection are ignored. */
  private generation = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  /** A `dms` request is out; `conversationsAgain`: another was asked for meanwhile. */
  private conversationsAsked = false;
  private conversationsAgain = false;
  private readonly earlierDms = new EarlierDms();
  private readonly earlierPages = new EarlierLoader(
    (request, then) =>
      this.socket.timeout(10_000).emit('history', request, (err, ack) => {
        then(err ? { ok: false, error: notConnected() } : ack);
      }),
    (result) => this.onEvent({ type: 'earlier', result }),
    (error) => this.onEvent({ type: 'error', error }),
  );

  constructor(
    private readonly options: SessionOptions,
    private readonly onEvent: (event: SessionEvent) => void,
  ) {
    this.room = (options.room ?? '').trim().toLowerCase() || 'lobby';
    this.socket = io(options.url, {
      transports: ['websocket'],
      autoConnect: false,
      reconnectionDelay: 200,
      reconnectionDelayMax: 2_000,
      auth: (cb) => cb(this.handshake()),
    });
    this.listen();
  }

  start(): void {
    this.socket.connect();
  }

  /** A deliberate quit: the others see us leave at once. */
  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.socket.disconnect();
  }

  get currentRoom(): string {
    return this.room;
  }

  /** Queues a room message (shown as "sending" until its ack). */
  send(text: string): void {
    this.queue({ kind: 'send', text, room: this.joining ?? this.room });
  }

  /** Queues a private message. */
  dm(to: string, text: string): void {
    this.queue({ kind: 'dm', to, text });
  }

  join(room: string): void {
    if (!this.ready) {
      this.onEvent({ type: 'error', error: notConnected() });
      return;
    }
    this.ready = false;
    this.joining = room.toLowerCase();
    const since = this.seqs.since(this.joining);
    const epoch = this.seqs.epoch(this.joining);
    const request: JoinRequest = { room };
    if (since !== undefined) request.since = since;
    if (since !== undefined && epoch !== undefined) request.epoch = epoch;
    this.socket.emit('join', request, (ack) => {
      // A real move ends with the new room's `synced`; joining the room we are in changes
      // nothing (no `synced`), and a refusal leaves us where we were.
      if (ack.ok && ack.room !== this.room) return;
      this.joining = undefined;
      this.ready = this.socket.connected;
      if (!ack.ok) this.onEvent({ type: 'error', error: ack.error });
      this.pump();
    });
  }

  /** Members of the current room; `asked`: the user typed /who (show them in the log too). */
  who(asked = false): void {
    if (!this.connectedFor(asked)) return;
    this.socket.emit('who', {}, (ack) =>
      this.settleRequest(ack, (result) =>
        this.onEvent({ type: 'members', room: result.room, members: result.members, asked }),
      ),
    );
  }

  rooms(asked = false): void {
    if (!this.connectedFor(asked)) return;
    this.socket.emit('rooms', {}, (ack) =>
      this.settleRequest(ack, (result) =>
        this.onEvent({ type: 'rooms', rooms: result.rooms, asked }),
      ),
    );
  }

  /**
   * Refreshes the conversation list (`dms`). Asked often (each DM in or out): while one
   * request is out, further asks make one more request after it, never a pile of them.
   */
  conversations(): void {
    if (!this.socket.connected) return;
    if (this.conversationsAsked) {
      this.conversationsAgain = true;
      return;
    }
    this.conversationsAsked = true;
    this.conversationsAgain = false;
    const generation = this.generation;
    this.socket.emit('dms', {}, (ack) => {
      this.conversationsAsked = false;
      if (generation !== this.generation) return;
      if (ack.ok) this.onEvent({ type: 'conversations', conversations: ack.conversations });
      if (this.conversationsAgain) this.conversations();
    });
  }

  /** Recent history of the conversation with `name` (which marks it read), then the list. */
  history(name: string): void {
    if (!this.connectedFor(true)) return;
    // A page as long as the earlier ones: more are a press away.
    this.socket.emit('history', { with: name, limit: EARLIER_PAGE }, (ack) => {
      this.settleRequest(ack, (result) => {
        // `{ with }` is always answered with a conversation's page.
        if (!('conversation' in result)) return;
        this.earlierDms.paged(name, result);
        this.onEvent({ type: 'history', result });
      });
      this.conversations();
    });
  }

  /** The page of the conversation with `name` before the earliest message shown of it. */
  earlierWith(name: string): void {
    if (!this.connectedFor(true)) return;
    this.socket.emit('history', this.earlierDms.request(name), (ack) => {
      this.settleRequest(ack, (result) => {
        if (!('conversation' in result)) return;
        this.earlierDms.paged(name, result);
        this.onEvent({ type: 'dm-earlier', peer: name, result });
      });
    });
  }

  /** The page of the current room before the earliest message shown (scrolled to the top). */
  earlier(): void {
    if (this.connectedFor(true)) this.earlierPages.load(this.room);
  }

  /** Whether a request can go out now; if the user asked for it, says why not. */
  private connectedFor(asked: boolean): boolean {
    if (this.socket.connected) return true;
    if (asked) this.onEvent({ type: 'error', error: notConnected() });
    return false;
  }

  private handshake(): Handshake {
    const auth: Handshake = { v: PROTOCOL_VERSION, batch: true, room: this.room };
    if (this.options.name !== undefined) auth.name = this.options.name;
    if (this.options.token !== undefined) auth.token = this.options.token;
    if (this.resumeToken !== undefined) auth.resume = this.resumeToken;
    const since = this.seqs.since(this.room);
    if (since !== undefined) auth.since = since;
    const epoch = this.seqs.epoch(this.room);
    if (since !== undefined && epoch !== undefined) auth.epoch = epoch;
    return auth;
  }

  private listen(): void {
    const socket = this.socket;
    socket.on('connect_error', (err: Error & { data?: unknown }) => this.refused(err));
    socket.on('welcome', (welcome) => {
      const reconnected = this.welcomed;
      this.welcomed = true;
      this.resumeToken = welcome.resumeToken;
      this.brokerGeneration = welcome.generation;
      this.room = welcome.room;
      this.joining = undefined;
      this.onEvent({ type: 'welcome', welcome, reconnected });
    });
    socket.on('generation', ({ generation }) => (this.brokerGeneration = generation));
    socket.on('message', (message) => this.receive(message));
    socket.on('messages', (messages) => messages.forEach((message) => this.receive(message)));
    socket.on('synced', (synced) => this.synced(synced));
    socket.on('gap', (gap) => {
      this.seqs.lost(gap.room, gap.from, gap.to);
      this.onEvent({ type: 'lost', room: gap.room, count: gap.to - gap.from + 1 });
    });
    socket.on('joined', (notice) => this.presence({ type: 'joined', notice }));
    socket.on('left', (notice) => this.presence({ type: 'left', notice }));
    socket.on('dm', (message) => {
      this.onEvent({ type: 'dm', message });
      this.conversations();
    });
    socket.on('error', (error) => this.onEvent({ type: 'error', error }));
    socket.on('draining', () =>
      this.onEvent({ type: 'connection', state: 'waiting', detail: 'node shutting down, moving' }),
    );
    socket.on('disconnect', (reason) => {
      this.ready = false;
      this.generation += 1;
      this.conversationsAsked = false;
      this.outbox.release();
      if (this.closed) return;
      this.onEvent({ type: 'connection', state: 'offline', detail: reason });
      // The server closed us (draining, cut off): socket.io-client does not come back by itself.
      if (reason === 'io server disconnect') this.retry(200);
    });
  }

  private refused(err: Error & { data?: unknown }): void {
    if (!isChatError(err.data)) {
      this.onEvent({ type: 'connection', state: 'offline', detail: err.message });
      if (!this.socket.active) this.retry(RETRY_MS);
      return;
    }
    const error = err.data;
    if (error.retryable) {
      this.onEvent({ type: 'connection', state: 'waiting', detail: error.message });
      this.retry(error.retryInMs ?? RETRY_MS);
      return;
    }
    this.closed = true;
    this.onEvent({ type: 'refused', error });
  }

  private retry(delayMs: number): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (!this.closed && !this.socket.connected) this.socket.connect();
    }, delayMs);
  }

  private receive(message: ChatMessage): void {
    if (message.room !== this.room && message.room !== this.joining) return;
    if (this.seqs.has(message.room, message.seq)) return;
    this.seqs.seen(message.room, message.seq);
    this.earlierPages.seen(message);
    this.onEvent({ type: 'message', message });
  }

  private synced(synced: Synced): void {
    this.seqs.synced(synced.room, synced.seq, synced.restarted === true, synced.epoch);
    // Sent unasked when the room's log starts a new epoch: the room (and a join under way) stay.
    if (synced.renewed === true) {
      // (At seq 0, the first epoch of a new room's log: nothing was there to lose.)
      if (synced.room === this.room && synced.seq > 0) {
        this.onEvent({ type: 'renewed', room: synced.room });
      }
      return;
    }
    this.room = synced.room;
    this.joining = undefined;
    this.ready = true;
    if (synced.lost > 0) this.onEvent({ type: 'lost', room: synced.room, count: synced.lost });
    this.onEvent({ type: 'synced', synced });
    this.who();
    this.rooms();
    this.conversations();
    this.pump();
  }

  private presence(event: Extract<SessionEvent, { type: 'joined' | 'left' }>): void {
    if (event.notice.room !== this.room) return;
    this.onEvent(event);
    this.who();
    this.rooms();
  }

  private queue(line: Omit<OutgoingLine, 'cid'>): void {
    this.onEvent({ type: 'queued', line: this.outbox.add(line) });
    this.pump();
  }

  /** Sends the next queued line if the session can; its ack sends the one after. */
  private pump(): void {
    if (!this.ready || !this.socket.connected) return;
    const line = this.outbox.take();
    if (line === undefined) return;
    const generation = this.generation;
    const retryOf = line.firstGeneration;
    line.firstGeneration ??= this.brokerGeneration;
    const settle = (
      err: Error | null,
      ack?: Ack<{ seq?: number; epoch?: string; to?: UserRef }>,
    ) => {
      if (generation !== this.generation) return;
      // A refusal that stored nothing: the next attempt is a first attempt again.
      if (ack?.ok === false && NOTHING_STORED.has(ack.error.code)) line.firstGeneration = retryOf;
      this.settleLine(line, err === null ? ack : undefined);
    };
    const timed = this.socket.timeout(ACK_TIMEOUT_MS);
    const retry = retryOf === undefined ? {} : { generation: retryOf };
    if (line.kind === 'send') {
      const room = line.room ?? this.room;
      timed.emit('send', { text: line.text, cid: line.cid, room, ...retry }, settle);
    } else {
      timed.emit('dm', { to: line.to ?? '', text: line.text, cid: line.cid, ...retry }, settle);
    }
  }

  private settleLine(
    line: OutgoingLine,
    ack: Ack<{ seq?: number; epoch?: string; to?: UserRef }> | undefined,
  ): void {
    if (ack === undefined || (!ack.ok && ack.error.retryable)) {
      // No answer in time, or a retryable refusal: the same cid again later is stored once.
      this.outbox.release();
      const delay = ack === undefined || ack.ok ? RETRY_MS : (ack.error.retryInMs ?? RETRY_MS);
      setTimeout(() => this.pump(), delay);
      return;
    }
    this.outbox.settle(line.cid);
    if (line.kind === 'dm') this.conversations();
    if (ack.ok) {
      if (line.kind === 'send' && line.room !== undefined && ack.seq !== undefined) {
        this.seqs.seen(line.room, ack.seq, ack.epoch);
      }
      this.onEvent(
        ack.to === undefined ? { type: 'acked', line } : { type: 'acked', line, to: ack.to },
      );
    } else {
      this.onEvent({ type: 'line-refused', line, error: ack.error });
    }
    this.pump();
  }

  private settleRequest<T>(ack: Ack<T>, then: (result: T) => void): void {
    if (ack.ok) then(ack);
    else this.onEvent({ type: 'error', error: ack.error });
  }
}

function notConnected(): ChatError {
  return {
    code: 'UNAVAILABLE',
    message: 'not connected to the chat yet; try again in a moment',
    retryable: true,
  };
}
