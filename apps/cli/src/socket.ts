import {
  isChatError,
  type ChatError,
  type ClientToServerEvents,
  type Handshake,
  type ServerToClientEvents,
} from '@chat/protocol';
import { io, type Socket } from 'socket.io-client';

export type ChatSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** How a connection attempt ended. `error` is set when the gateway refused us with a reason. */
export type ConnectOutcome = { ok: true } | { ok: false; reason: string; error?: ChatError };

/**
 * A socket to one gateway, connecting at once. WebSocket only (no long-polling: gateways sit
 * behind load balancers without sticky sessions), and no built-in reconnection: it would only
 * retry the same URL and never after a server-side disconnect, so ChatClient does fail-over
 * itself with a fresh socket per attempt. `auth` is called for every attempt, so each one sends
 * the client's current resume state.
 */
export function openSocket(
  url: string,
  auth: () => Handshake,
  connectTimeoutMs: number,
): ChatSocket {
  return io(url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: connectTimeoutMs,
    auth: (cb) => cb(auth()),
  });
}

/** Waits for the socket's first `connect` or `connect_error`, or for `signal` to abort. */
export function waitForConnect(socket: ChatSocket, signal: AbortSignal): Promise<ConnectOutcome> {
  return new Promise((resolve) => {
    const settle = (outcome: ConnectOutcome): void => {
      socket.off('connect', onConnect);
      socket.off('connect_error', onError);
      signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const onConnect = (): void => settle({ ok: true });
    const onAbort = (): void => settle({ ok: false, reason: 'stopped' });
    const onError = (err: Error & { data?: unknown }): void => {
      settle(
        isChatError(err.data)
          ? { ok: false, reason: err.data.message, error: err.data }
          : { ok: false, reason: describe(err) },
      );
    };
    if (signal.aborted) return onAbort();
    socket.once('connect', onConnect);
    socket.once('connect_error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** socket.io-client reports a refused connection as "websocket error"; find the cause. */
function describe(err: Error & { description?: unknown }): string {
  const cause = err.description;
  if (cause instanceof Error && cause.message !== '') return cause.message;
  if (typeof cause === 'object' && cause !== null && 'error' in cause) {
    const inner = cause.error;
    if (inner instanceof Error && inner.message !== '') return inner.message;
  }
  return err.message;
}

/**
 * Drops the connection the way a network failure would: the gateway sees a transport close,
 * not a client leaving, so it keeps our session resumable. Used when a node announces that it
 * is draining.
 */
export function dropTransport(socket: ChatSocket): void {
  socket.io.engine.close();
}
