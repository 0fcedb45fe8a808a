import {
  PROTOCOL_VERSION,
  type Ack,
  type ChatError,
  type ChatMessage,
  type ClientToServerEvents,
  type DirectMessage,
  type Handshake,
  type LeftNotice,
  type PresenceNotice,
  type SendResult,
  type ServerToClientEvents,
  type Synced,
  type Welcome,
} from '@chat/protocol';
import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import { vi } from 'vitest';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Everything a test client saw, in arrival order, as short lines ("[alice] hi", "bob joined"). */
export interface TestClient {
  socket: ClientSocket;
  welcome: Welcome;
  /** Room messages received (live and history), in order. */
  messages: ChatMessage[];
  dms: DirectMessage[];
  joined: PresenceNotice[];
  left: LeftNotice[];
  synced: Synced[];
  errors: ChatError[];
  /** Every event in order, rendered as a line. */
  lines: string[];
  send(text: string, extra?: { cid?: string }): Promise<SendResult>;
  /** Sends and returns the raw ack (for error cases). */
  request<E extends keyof ClientToServerEvents>(event: E, payload: unknown): Promise<Ack<object>>;
  close(): void;
}

export interface ConnectOptions extends Handshake {
  /** Leave auth exactly as given (no protocol version added). */
  raw?: boolean;
  /** Local address to connect from (a loopback address such as 127.0.0.2). */
  localAddress?: string;
}

/**
 * Connects with the websocket transport only, like the CLI; resolves once the client is in its
 * room (`synced`), so that everything published afterwards reaches it.
 */
export async function connect(url: string, options: ConnectOptions = {}): Promise<TestClient> {
  const { raw, localAddress, ...handshake } = options;
  // engine.io-client hands `localAddress` to the Node websocket; its types do not list it.
  const settings: Partial<ManagerOptions & SocketOptions> & { localAddress?: string } = {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    auth: raw ? handshake : { v: PROTOCOL_VERSION, ...handshake },
    ...(localAddress === undefined ? {} : { localAddress }),
  };
  const socket: ClientSocket = io(url, settings);
  const client = record(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('synced', () => resolve());
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
  return client;
}

/** Like connect, but resolves to the refusal (`connect_error.data`). */
export async function refused(url: string, options: ConnectOptions = {}): Promise<ChatError> {
  try {
    const client = await connect(url, options);
    client.close();
  } catch (error) {
    return (error as { data: ChatError }).data;
  }
  throw new Error('the connection was accepted');
}

function record(socket: ClientSocket): TestClient {
  const client: TestClient = {
    socket,
    welcome: undefined as unknown as Welcome,
    messages: [],
    dms: [],
    joined: [],
    left: [],
    synced: [],
    errors: [],
    lines: [],
    async send(text, extra = {}) {
      const ack = await socket.timeout(10_000).emitWithAck('send', { text, ...extra });
      if (!ack.ok) throw Object.assign(new Error(ack.error.message), { data: ack.error });
      return { id: ack.id, seq: ack.seq, ...(ack.epoch === undefined ? {} : { epoch: ack.epoch }) };
    },
    request(event, payload) {
      return (socket.timeout(10_000) as unknown as Socket).emitWithAck(event, payload);
    },
    close() {
      socket.disconnect();
    },
  };
  socket.on('welcome', (w) => {
    client.welcome = w;
    client.lines.push(`welcome ${w.user.name}`);
  });
  const onMessage = (m: ChatMessage) => {
    client.messages.push(m);
    client.lines.push(`[${m.from.name}] ${m.text}`);
  };
  socket.on('message', onMessage);
  socket.on('messages', (batch) => batch.forEach(onMessage));
  socket.on('dm', (m) => {
    client.dms.push(m);
    client.lines.push(`[DM from ${m.from.name}] ${m.text}`);
  });
  socket.on('joined', (n) => {
    client.joined.push(n);
    client.lines.push(`${n.user.name} joined`);
  });
  socket.on('left', (n) => {
    client.left.push(n);
    client.lines.push(`${n.user.name} left`);
  });
  socket.on('synced', (s) => client.synced.push(s));
  socket.on('error', (e) => client.errors.push(e));
  return client;
}

/** Waits until `check` stops throwing; for "eventually" assertions without sleeps. */
export function eventually(check: () => void, timeout = 10_000): Promise<void> {
  return vi.waitFor(check, { timeout, interval: 20 });
}

/**
 * The unasked `synced` a client got when its room's log started a new epoch after a loss (those
 * at seq 0 announce a new room's first epoch: nothing was lost there).
 */
export function renewals(client: TestClient): Synced[] {
  return client.synced.filter((s) => s.renewed === true && s.seq > 0);
}

/** Texts of the room messages a client received, in order. */
export function texts(client: TestClient): string[] {
  return client.messages.map((m) => m.text);
}
