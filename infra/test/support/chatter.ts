import {
  PROTOCOL_VERSION,
  isChatError,
  type ChatMessage,
  type ClientToServerEvents,
  type Handshake,
  type SendResult,
  type ServerToClientEvents,
  type Welcome,
} from '@chat/protocol';
import { io, type Socket } from 'socket.io-client';

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Pause before reconnecting; the balancer needs about a second to drop a dead replica. */
const RETRY_MS = 300;

/**
 * A chat participant that behaves like a well-made client behind a balancer: websocket only, and
 * when its connection drops (or a connect is refused with a retryable error) it connects again
 * through the same URL, resuming as the same user with the last sequence it holds everything up
 * to, so nothing is missed or repeated. It records what it received.
 */
export class Chatter {
  /** Every welcome, in order: the last one is the current connection. */
  readonly welcomes: Welcome[] = [];
  /** Room messages received (live and replayed), in order. */
  readonly messages: ChatMessage[] = [];
  private readonly socket: ClientSocket;
  /** Sequence numbers seen above `synced` (received or our own acks). */
  private readonly seen = new Set<number>();
  private watermark = 0;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;

  private constructor(
    url: string,
    readonly name: string,
  ) {
    this.socket = io(url, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      // Called on every connect, so each one carries the current resume state.
      auth: (cb) => cb(this.handshake()),
    });
    this.socket.on('welcome', (welcome) => this.welcomes.push(welcome));
    this.socket.on('synced', (synced) => {
      this.watermark = Math.max(this.watermark, synced.seq);
      this.advance();
    });
    this.socket.on('message', (message) => {
      this.messages.push(message);
      this.mark(message.seq);
    });
    this.socket.on('disconnect', (reason) => {
      if (reason !== 'io client disconnect') this.reconnectSoon();
    });
    this.socket.on('connect_error', (error: Error & { data?: unknown }) => {
      // A refusal without a retryable code (bad name, bad token) would repeat forever.
      if (!isChatError(error.data) || error.data.retryable) this.reconnectSoon();
    });
  }

  /** Connects and resolves once the first join is complete (`synced`). */
  static async connect(url: string, name: string, timeoutMs = 20_000): Promise<Chatter> {
    const chatter = new Chatter(url, name);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        chatter.close();
        reject(new Error(`${name} did not join through ${url} within ${timeoutMs} ms`));
      }, timeoutMs);
      chatter.socket.once('synced', () => {
        clearTimeout(timer);
        resolve();
      });
      chatter.socket.on('connect_error', (error: Error & { data?: unknown }) => {
        if (isChatError(error.data) && !error.data.retryable) {
          clearTimeout(timer);
          chatter.close();
          reject(new Error(`${name} was refused: ${error.data.message} (${error.data.code})`));
        }
      });
    });
    return chatter;
  }

  get welcome(): Welcome {
    const last = this.welcomes.at(-1);
    if (last === undefined) throw new Error(`${this.name} has no welcome yet`);
    return last;
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  /** Sends with a client id, retried once if the first attempt got no answer. */
  async send(text: string): Promise<SendResult> {
    const cid = `${this.name}:${text}`;
    for (let attempt = 1; ; attempt++) {
      try {
        const ack = await this.socket.timeout(10_000).emitWithAck('send', { text, cid });
        if (!ack.ok) throw new Error(`${this.name} send refused: ${ack.error.message}`);
        this.mark(ack.seq);
        return { id: ack.id, seq: ack.seq };
      } catch (error) {
        if (attempt >= 2) throw error;
      }
    }
  }

  /** Texts of the room's archived messages with these words (`search`), newest first. */
  async search(q: string): Promise<string[]> {
    const ack = await this.socket.timeout(10_000).emitWithAck('search', { q });
    if (!ack.ok) throw new Error(`${this.name} search refused: ${ack.error.message}`);
    return ack.messages.map((m: ChatMessage) => m.text);
  }

  /** Texts received from others, in order. */
  texts(): string[] {
    return this.messages.filter((m) => m.from.name !== this.name).map((m) => m.text);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retry);
    this.socket.disconnect();
  }

  private handshake(): Handshake {
    const last = this.welcomes.at(-1);
    if (last === undefined) return { v: PROTOCOL_VERSION, name: this.name };
    return {
      v: PROTOCOL_VERSION,
      resume: last.resumeToken,
      room: last.room,
      since: this.watermark,
    };
  }

  private reconnectSoon(): void {
    if (this.closed || this.retry !== undefined) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      if (!this.closed && !this.socket.connected) this.socket.connect();
    }, RETRY_MS);
  }

  private mark(seq: number): void {
    if (seq > this.watermark) this.seen.add(seq);
    this.advance();
  }

  /** The watermark moves only through a contiguous run, never past a message not yet had. */
  private advance(): void {
    while (this.seen.delete(this.watermark + 1)) this.watermark += 1;
    for (const seq of this.seen) if (seq <= this.watermark) this.seen.delete(seq);
  }
}
