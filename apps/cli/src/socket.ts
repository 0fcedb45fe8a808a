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

/**
 * Waits for the socket's first `connect` or `connect_error`, or for `signal` to abort. A
 * gateway that accepts the transport but never answers the handshake (stuck, or draining) and
 * one whose transport closes before answering end the attempt too: after `timeoutMs`, and on
 * that `disconnect`, which socket.io-client emits even for a socket that never connected.
 */
export function waitForConnect(
  socket: ChatSocket,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<ConnectOutcome> {
  return new Promise((resolve) => {
    const settle = (outcome: ConnectOutcome): void => {
      clearTimeout(timer);
      socket.off('connect', onConnect);
      socket.off('connect_error', onError);
      socket.off('disconnect', onDisconnect);
      signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const onConnect = (): void => settle({ ok: true });
    const onAbort = (): void => settle({ ok: false, reason: 'stopped' });
    const onDisconnect = (reason: string): void =>
      settle({ ok: false, reason: `closed before the handshake was answered (${reason})` });
    const onError = (err: Error & { data?: unknown }): void => {
      settle(
        isChatError(err.data)
          ? { ok: false, reason: err.data.message, error: err.data }
          : { ok: false, reason: describe(err) },
      );
    };
    const timer = setTimeout(
      () => settle({ ok: false, reason: `no answer to the handshake in ${timeoutMs} ms` }),
      timeoutMs,
    );
    if (signal.aborted) return onAbort();
    socket.once('connect', onConnect);
    socket.once('connect_error', onError);
    socket.once('disconnect', onDisconnect);
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
