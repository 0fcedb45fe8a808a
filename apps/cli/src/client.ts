import type {
  JoinRequest,
  ChatMessage,
  ChatError,
  DmResult,
  DmsResult,
  HistoryResult,
  JoinResult,
  RoomHistoryResult,
  RoomsResult,
  SearchResult,
  SendResult,
  UserRef,
  WhoResult,
} from '@chat/protocol';
import { randomBytes } from 'node:crypto';
import { chatError, EarlierDms, EarlierPages } from '@chat/protocol';
import { Backoff, sleep, type BackoffOptions } from './backoff';
import type { ClientEvent, ClientEventHandler } from './events';
import { Outbox } from './outbox';
import { requestJob, type Call, type Outcome } from './requests';
import { FirstTry } from './first-try';
import { ResumeState } from './resume';
import { dropTransport, openSocket, waitForConnect, type ChatSocket } from './socket';

export interface ChatClientOptions {
  /** Gateways to use, in order of preference; at least one. */
  urls: readonly string[];
  name?: string;
  token?: string;
  /** Room to join first. @default DEFAULT_ROOM */
  room?: string;
  /** Receives every event to show, in arrival order. */
  onEvent: ClientEventHandler;
  /** Time one connection attempt may take. @default 5_000 */
  connectTimeoutMs?: number;
  /** Give up after this long without a working gateway. @default 60_000 */
  giveUpAfterMs?: number;
  /** Time a gateway has to ack a request before it is sent again. @default 10_000 */
  ackTimeoutMs?: number;
  /** Delays between connection attempts. @default 100 ms doubling to 2 s, jittered */
  backoff?: BackoffOptions;
}

/** Why the client stopped, as `run()` reports it. */
export type ClientEnd =
  /** We left on purpose (`quit()`). */
  | { kind: 'quit' }
  /** A gateway refused us for a reason retrying cannot fix (NAME_TAKEN, UNAUTHORIZED, ...). */
  | { kind: 'rejected'; error: ChatError }
  /** No gateway answered: at start-up, or for `giveUpAfterMs` after losing one. */
  | { kind: 'unreachable'; message: string };

/**
 * A chat session that outlives any single gateway. It connects to the first URL that answers;
 * when that node goes away for any reason but our own `quit()` (crash, network, draining), it
 * fails over round-robin to the next URL and resumes there as the same user (handshake
 * `resume`), in the same room, from the last contiguous seq it saw (`since`). Requests wait
 * in an ordered outbox across fail-overs; see Outbox for the delivery contract.
 */
export class ChatClient {
  private readonly urls: readonly string[];
  private readonly onEvent: ClientEventHandler;
  private readonly connectTimeoutMs: number;
  private readonly giveUpAfterMs: number;
  private readonly ackTimeoutMs: number;
  private readonly backoff: Backoff;
  private readonly outbox = new Outbox<ChatSocket>();
  private readonly state: ResumeState;
  private readonly earlier = new EarlierPages();
  private readonly earlierDms = new EarlierDms();
  private readonly stop = new AbortController();
  private readonly cidPrefix = randomBytes(6).toString('base64url');
  private cidCounter = 0;
  private index = 0;
  private socket: ChatSocket | undefined;
  private connecting = false;
  /** The last `waiting` refusal reported, so that retries do not repeat it. */
  private waitingFor: string | undefined;
  /** Set by a `draining` notice: how long to stay away from the node that sent it. */
  private drainingMs: number | undefined;
  private resolveEnd: (end: ClientEnd) => void = () => undefined;
  private readonly ended: Promise<ClientEnd>;
  private resolveReady: () => void = () => undefined;
  /** Resolves on the first `welcome`; never rejects (watch `run()` for failure). */
  readonly ready: Promise<void>;

  constructor(options: ChatClientOptions) {
    if (options.urls.length === 0) throw new Error('ChatClient needs at least one URL');
    this.urls = options.urls;
    this.onEvent = options.onEvent;
    this.state = new ResumeState(options, options.room);
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
    this.giveUpAfterMs = options.giveUpAfterMs ?? 60_000;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
    this.backoff = new Backoff(options.backoff);
    this.ended = new Promise((resolve) => (this.resolveEnd = resolve));
    this.ready = new Promise((resolve) => (this.resolveReady = resolve));
  }

  /** Our identity, from the latest `welcome`. */
  get user(): UserRef | undefined {
    return this.state.user;
  }

  /** Whether a gateway holds our session right now (false while reconnecting or waiting). */
  get online(): boolean {
    return this.socket?.connected === true;
  }

  /** The room we are in (or will rejoin). */
  get room(): string {
    return this.state.room;
  }

  /** Connects, and resolves once the session is over. Call once. */
  run(): Promise<ClientEnd> {
    void this.connect(true);
    return this.ended;
  }

  /** Leaves on purpose: the gateway announces `left` and the session cannot be resumed. */
  quit(): void {
    this.finish({ kind: 'quit' });
  }

  /** Resolves when every request made so far has settled. */
  idle(): Promise<void> {
    return this.outbox.idle();
  }

  /**
   * Sends `text` to the current room; resent with the same `cid` after a fail-over. Refused
   * with RECORDS_LOST (not resent) when the broker lost its records since the first try.
   */
  send(text: string): Promise<Outcome<SendResult>> {
    const cid = `${this.cidPrefix}-${++this.cidCounter}`;
    const first = new FirstTry();
    return this.request(async (socket, ms) => {
      const room = this.state.room;
      const request = { text, room, cid, ...first.field() };
      const ack = await first.attempt(this.state.generation, () =>
        socket.timeout(ms).emitWithAck('send', request),
      );
      if (ack.ok) this.state.seqs.seen(room, ack.seq, ack.epoch);
      return ack;
    });
  }

  /** Moves to `room`, asking for what we missed there if we have been in it before. */
  join(room: string): Promise<Outcome<JoinResult>> {
    return this.request(async (socket, ms) => {
      const since = this.state.seqs.since(room);
      const epoch = this.state.seqs.epoch(room);
      const request: JoinRequest = { room };
      if (since !== undefined) request.since = since;
      if (since !== undefined && epoch !== undefined) request.epoch = epoch;
      const ack = await socket.timeout(ms).emitWithAck('join', request);
      if (ack.ok) this.state.room = ack.room;
      return ack;
    });
  }

  /** Sends a direct message; resent like `send`, delivered once. */
  dm(to: string, text: string): Promise<Outcome<DmResult>> {
    const cid = `${this.cidPrefix}-${++this.cidCounter}`;
    const first = new FirstTry();
    return this.request(async (socket, ms) => {
      const request = { to, text, cid, ...first.field() };
      const ack = await first.attempt(this.state.generation, () =>
        socket.timeout(ms).emitWithAck('dm', request),
      );
      // Our own DM is part of the conversation: a reconnect must not have it sent back to us.
      if (ack.ok) this.state.dmGiven(ack);
      return ack;
    });
  }

  who(): Promise<Outcome<WhoResult>> {
    return this.request((socket, ms) => socket.timeout(ms).emitWithAck('who', {}));
  }

  dms(): Promise<Outcome<DmsResult>> {
    return this.request((socket, ms) => socket.timeout(ms).emitWithAck('dms', {}));
  }

  history(name: string): Promise<Outcome<HistoryResult>> {
    return this.request(async (socket, ms) => {
      const ack = await socket.timeout(ms).emitWithAck('history', { with: name });
      if (!ack.ok) return ack;
      if (!('conversation' in ack)) return wrongHistory();
      this.earlierDms.paged(name, ack);
      return ack;
    });
  }

  /** The page of the conversation with `name` before the earliest message shown (`/more NAME`). */
  moreWith(name: string): Promise<Outcome<HistoryResult>> {
    return this.request(async (socket, ms) => {
      const ack = await socket.timeout(ms).emitWithAck('history', this.earlierDms.request(name));
      if (!ack.ok) return ack;
      if (!('conversation' in ack)) return wrongHistory();
      this.earlierDms.paged(name, ack);
      return ack;
    });
  }

  /** The page of the current room before the earliest message shown there (`/more`). */
  more(): Promise<Outcome<RoomHistoryResult>> {
    return this.request(async (socket, ms) => {
      const request = this.earlier.request(this.state.room);
      const ack = await socket.timeout(ms).emitWithAck('history', request);
      if (!ack.ok) return ack;
      if (!('room' in ack)) return wrongHistory();
      this.earlier.paged(ack);
      return ack;
    });
  }

  /** Archived messages of the current room with these words, newest first (`/search`). */
  search(q: string): Promise<Outcome<SearchResult>> {
    return this.request((socket, ms) =>
      socket.timeout(ms).emitWithAck('search', { q, room: this.state.room }),
    );
  }

  rooms(): Promise<Outcome<RoomsResult>> {
    return this.request((socket, ms) => socket.timeout(ms).emitWithAck('rooms', {}));
  }

  private request<T>(call: Call<T, ChatSocket>): Promise<Outcome<T>> {
    return new Promise((resolve) => {
      this.outbox.push(requestJob(call, this.ackTimeoutMs, resolve));
    });
  }

  /**
   * Tries URLs round-robin from `this.index` until one connects. At start-up a full round in
   * which no gateway answers at all ends the session; after that (or once a gateway has
   * answered, if only to say UNAVAILABLE) it keeps going for `giveUpAfterMs`.
   */
  private async connect(initial: boolean): Promise<void> {
    if (this.connecting) return;
    this.connecting = true;
    const deadline = Date.now() + this.giveUpAfterMs;
    const failures: string[] = [];
    let answered = false;
    try {
      for (let attempt = 0; !this.stop.signal.aborted; attempt++) {
        if (attempt > 0 || !initial) await this.pause();
        if (this.stop.signal.aborted) return;
        const url = this.urls[this.index] ?? '';
        const socket = this.open(url);
        const outcome = await waitForConnect(socket, this.stop.signal, this.connectTimeoutMs);
        if (outcome.ok && socket.connected && !this.stop.signal.aborted) return;
        if (this.socket === socket) this.socket = undefined;
        socket.close();
        if (outcome.ok) continue;
        if (outcome.error !== undefined && !outcome.error.retryable) {
          return this.finish({ kind: 'rejected', error: outcome.error });
        }
        if (outcome.error !== undefined) {
          answered = true;
          this.waiting(url, outcome.error);
        }
        failures.push(`${url}: ${outcome.reason}`);
        this.index = (this.index + 1) % this.urls.length;
        const roundDone = failures.length % this.urls.length === 0;
        if ((initial && !answered && roundDone) || Date.now() >= deadline) {
          const recent = failures.slice(-this.urls.length).join('; ');
          const message = answered
            ? `gave up waiting for the cluster after ${Math.round(this.giveUpAfterMs / 1000)} s (${recent})`
            : `no gateway reachable (${recent})`;
          return this.finish({ kind: 'unreachable', message });
        }
      }
    } finally {
      this.connecting = false;
    }
  }

  /** Tells the user, once per distinct refusal, that a gateway answered and we are waiting. */
  private waiting(url: string, error: ChatError): void {
    const key = `${url} ${error.code} ${error.message}`;
    if (key === this.waitingFor) return;
    this.waitingFor = key;
    this.onEvent({ type: 'waiting', url, error });
  }

  /** The wait before the next attempt; a draining node asked us to stay away for a while. */
  private async pause(): Promise<void> {
    let ms = this.backoff.next();
    if (this.drainingMs !== undefined && this.urls.length === 1) ms = Math.max(ms, this.drainingMs);
    this.drainingMs = undefined;
    await sleep(ms, this.stop.signal);
  }

  /** Opens a socket to `url` with every handler attached before any packet can arrive. */
  private open(url: string): ChatSocket {
    const socket = openSocket(url, () => this.state.handshake(), this.connectTimeoutMs);
    this.socket = socket;
    const live = (): boolean => this.socket === socket;
    socket.on('generation', ({ generation }) => {
      if (live()) this.state.generation = generation;
    });
    socket.on('welcome', (welcome) => {
      if (!live()) return;
      this.waitingFor = undefined;
      this.onEvent({ type: 'welcome', welcome, reconnected: this.state.welcomed(welcome) });
      this.backoff.reset();
      this.resolveReady();
      this.outbox.online(socket);
    });
    const onMessage = (message: ChatMessage): void => {
      // A replay starts at our contiguous watermark, so it repeats what we saw above a hole
      // (e.g. our own send whose ack the failed node never gave us): shown once, not twice.
      if (message.history === true && this.state.seqs.has(message.room, message.seq)) return;
      this.state.seqs.seen(message.room, message.seq);
      this.earlier.seen(message.room, message.seq, this.state.seqs.epoch(message.room));
      this.onEvent({ type: 'message', message });
    };
    socket.on('message', (message) => {
      if (live()) onMessage(message);
    });
    // The CLI asks for batches (see resume.ts): a busy room costs one frame per window.
    socket.on('messages', (messages) => {
      if (live()) messages.forEach(onMessage);
    });
    socket.on('synced', (synced) => {
      if (!live()) return;
      this.state.seqs.synced(synced.room, synced.seq, synced.restarted === true, synced.epoch);
      this.onEvent({ type: 'synced', synced });
      if (synced.quiet) this.onEvent({ type: 'quiet', room: synced.room, quiet: true });
    });
    socket.on('gap', (gap) => {
      if (!live()) return;
      this.state.seqs.lost(gap.room, gap.from, gap.to);
      this.onEvent({ type: 'gap', gap });
    });
    socket.on('dm', (message) => {
      if (!live() || !this.state.dmGiven(message)) return;
      this.onEvent({ type: 'dm', message, mine: message.from.id === this.state.user?.id });
    });
    const presence = (event: Extract<ClientEvent, { type: 'joined' | 'left' }>) => {
      if (!live()) return;
      this.onEvent(event);
      const { room, quiet } = event.notice;
      if (quiet !== undefined) this.onEvent({ type: 'quiet', room, quiet });
    };
    socket.on('joined', (notice) => presence({ type: 'joined', notice }));
    socket.on('left', (notice) => presence({ type: 'left', notice }));
    socket.on('error', (error) => live() && this.onEvent({ type: 'server-error', error }));
    socket.on('draining', ({ retryInMs }) => {
      if (!live()) return;
      // Leave as if the network failed, so the session stays resumable on another node.
      this.drainingMs = retryInMs;
      dropTransport(socket);
    });
    // A socket that never connected ends its attempt in `connect()` (waitForConnect), which
    // picks the next URL: only the loss of a connected one starts a fail-over here.
    let connected = false;
    socket.on('connect', () => (connected = true));
    socket.on('disconnect', (reason) => {
      if (!live() || !connected) return;
      this.socket = undefined;
      this.outbox.offline();
      if (this.stop.signal.aborted) return;
      const why = this.drainingMs === undefined ? reason : 'the node is draining';
      this.onEvent({ type: 'connection-lost', url, reason: why });
      this.index = (this.urls.indexOf(url) + 1) % this.urls.length;
      void this.connect(false);
    });
    return socket;
  }

  /** Ends the session once; a connected socket is disconnected cleanly (a `quit`). */
  private finish(end: ClientEnd): void {
    if (this.stop.signal.aborted) return;
    this.stop.abort();
    this.outbox.close();
    const socket = this.socket;
    this.socket = undefined; // first, so its `disconnect` handler sees a socket no longer live
    socket?.disconnect();
    this.resolveEnd(end);
  }
}

/** A gateway that answers one kind of `history` with the other breaks the protocol. */
function wrongHistory(): { ok: false; error: ChatError } {
  return {
    ok: false,
    error: chatError('INTERNAL', 'the gateway answered another kind of history'),
  };
}
