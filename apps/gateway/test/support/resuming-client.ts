import { PROTOCOL_VERSION, type ChatMessage, type Synced, type Welcome } from '@chat/protocol';
import { io } from 'socket.io-client';
import type { ClientSocket } from './client';

/**
 * A client that behaves like the CLI across failures: when its node goes away it reconnects to
 * the next URL with its resume token, room, last contiguous seq and the room log's epoch, so
 * the cluster replays exactly what it missed (or says what it cannot).
 */
export class ResumingClient {
  readonly messages: ChatMessage[] = [];
  readonly welcomes: Welcome[] = [];
  readonly lines: string[] = [];
  readonly synced: Synced[] = [];
  /** Codes of refused connection attempts. */
  readonly refusals: string[] = [];
  socket: ClientSocket | undefined;
  private floor = 0;
  private readonly above = new Set<number>();
  private next = 0;
  private epoch: string | undefined;
  private closed = false;

  constructor(
    private readonly urls: string[],
    private readonly name: string,
    private readonly room = 'lobby',
  ) {}

  /** Resolves once joined (synced) on some node. */
  start(): Promise<void> {
    return new Promise((resolve) => this.connect(resolve));
  }

  get node(): string | undefined {
    return this.welcomes.at(-1)?.node;
  }

  async send(text: string, extra: { cid?: string } = {}): Promise<void> {
    const socket = this.socket;
    if (!socket) throw new Error('not connected');
    const ack = await socket.timeout(10_000).emitWithAck('send', { text, ...extra });
    if (!ack.ok) throw new Error(ack.error.code);
    this.seen(ack.seq);
  }

  close(): void {
    this.closed = true;
    this.socket?.disconnect();
  }

  private connect(onSynced?: () => void): void {
    if (this.closed) return;
    const url = this.urls[this.next % this.urls.length] ?? '';
    this.next++;
    const resume = this.welcomes.at(-1)?.resumeToken;
    const socket: ClientSocket = io(url, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      auth: {
        v: PROTOCOL_VERSION,
        name: this.name,
        room: this.room,
        ...(resume ? { resume, since: this.floor } : {}),
        ...(resume && this.epoch !== undefined ? { epoch: this.epoch } : {}),
      },
    });
    this.socket = socket;
    socket.on('welcome', (welcome) => this.welcomes.push(welcome));
    socket.on('message', (message) => {
      this.messages.push(message);
      this.seen(message.seq);
    });
    socket.on('joined', (n) => this.lines.push(`${n.user.name} joined`));
    socket.on('left', (n) => this.lines.push(`${n.user.name} left`));
    socket.on('gap', (gap) => {
      this.lines.push(`lost ${gap.from}-${gap.to}`);
      for (let seq = gap.from; seq <= gap.to; seq++) this.seen(seq);
    });
    socket.on('synced', (synced) => {
      this.synced.push(synced);
      if (synced.restarted) {
        this.floor = 0;
        this.above.clear();
      }
      this.epoch = synced.epoch ?? this.epoch;
      this.floor = Math.max(this.floor, synced.seq);
      this.advance();
      onSynced?.();
    });
    const retry = () => {
      socket.removeAllListeners();
      socket.close();
      setTimeout(() => this.connect(onSynced), 100).unref();
    };
    socket.on('connect_error', (error) => {
      const code = (error as { data?: { code?: string } }).data?.code;
      this.refusals.push(code ?? error.message);
      retry();
    });
    socket.on('disconnect', () => {
      if (!this.closed) retry();
    });
  }

  private seen(seq: number): void {
    if (seq > this.floor) this.above.add(seq);
    this.advance();
  }

  /** The floor is the highest seq up to which everything was seen (or sent by us). */
  private advance(): void {
    for (const seq of this.above) if (seq <= this.floor) this.above.delete(seq);
    while (this.above.delete(this.floor + 1)) this.floor++;
  }
}
