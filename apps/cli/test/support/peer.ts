import type {
  ChatMessage,
  ClientToServerEvents,
  Handshake,
  ServerToClientEvents,
  Welcome,
} from '@chat/protocol';
import { io, type Socket } from 'socket.io-client';
import { vi } from 'vitest';

/** Another chat user, driven directly over socket.io-client, that records what it receives. */
export interface Peer {
  readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  readonly welcome: Welcome;
  /** Every event received, in order, as `[event, payload]`. */
  readonly events: [string, unknown][];
  /** Texts of the room messages received, in order. */
  texts(): string[];
  /** Waits until `check` stops throwing (vi.waitFor), e.g. for a message to arrive. */
  until<T>(check: () => T, timeout?: number): Promise<T>;
  close(): void;
}

export async function connectPeer(url: string, auth: Handshake = {}): Promise<Peer> {
  const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    auth: { v: 1, ...auth },
  });
  const events: [string, unknown][] = [];
  socket.onAny((event: string, payload: unknown) => events.push([event, payload]));
  const welcome = await new Promise<Welcome>((resolve, reject) => {
    socket.once('welcome', resolve);
    socket.once('connect_error', reject);
  });
  return {
    socket,
    welcome,
    events,
    texts: () =>
      events.filter(([event]) => event === 'message').map(([, m]) => (m as ChatMessage).text),
    until: (check, timeout = 10_000) => vi.waitFor(check, { timeout, interval: 20 }),
    close: () => socket.disconnect(),
  };
}
