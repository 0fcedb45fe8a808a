import { io, type Socket } from 'socket.io-client';
import { handshake, type BenchClient, type ClientHandlers, type SendAck } from './client';
import type { ClientSpec } from './protocol';

/** The part of the wire contract every system under test speaks (ours and the baselines). */
interface ServerEvents {
  message: (message: { text: string }) => void;
  messages: (messages: { text: string }[]) => void;
  synced: (synced: unknown) => void;
}
interface ClientEvents {
  send: (request: { text: string }, ack: (response: SendAck) => void) => void;
}

/** The bench client over the real socket.io-client (`--client socket.io`). */
export function connectSocketIo(spec: ClientSpec, handlers: ClientHandlers): Promise<BenchClient> {
  const socket: Socket<ServerEvents, ClientEvents> = io(spec.url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: 30_000,
    auth: handshake(spec),
  });
  socket.on('message', (message) => handlers.message(message.text));
  socket.on('messages', (messages) => {
    for (const message of messages) handlers.message(message.text);
  });
  // engine.io-client keeps the `ws` WebSocket of its transport.
  const transportSocket = () =>
    (
      socket.io.engine as unknown as {
        transport?: { ws?: { pause?: () => void; resume?: () => void } };
      }
    ).transport?.ws;
  const client: BenchClient = {
    spec,
    send: (text, ack) => void socket.emit('send', { text }, ack),
    pause: () => transportSocket()?.pause?.(),
    resume: () => transportSocket()?.resume?.(),
    get closed() {
      return !socket.connected;
    },
    close: () => void socket.disconnect(),
  };
  return new Promise((resolve, reject) => {
    socket.once('synced', () => {
      socket.on('disconnect', () => handlers.disconnected());
      resolve(client);
    });
    socket.once('connect_error', (error) => {
      socket.close();
      reject(new Error(`${spec.url}: ${error.message}`));
    });
  });
}
