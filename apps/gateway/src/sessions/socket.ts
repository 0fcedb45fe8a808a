import type { ClientToServerEvents, Handshake, ServerToClientEvents } from '@chat/protocol';
import type { BroadcastOperator, Server, Socket } from 'socket.io';
import type { ResumeRecord } from '../broker/cluster-state';

/** Who a connection is, settled during the handshake. */
export interface Identity extends ResumeRecord {
  resumeToken: string;
  handshake: Handshake;
}

/** Socket.IO's per-socket data, typed. */
export interface SocketData {
  identity?: Identity;
}

/** The Socket.IO server and sockets, typed by the protocol's events. */
export type ChatServer = Server<
  ClientToServerEvents,
  ServerToClientEvents,
  Record<string, never>,
  SocketData
>;
export type ChatSocket = Socket<
  ClientToServerEvents,
  ServerToClientEvents,
  Record<string, never>,
  SocketData
>;

/** One socket or a broadcast: what a notice is emitted to. */
export type Emitter = ChatSocket | BroadcastOperator<ServerToClientEvents, SocketData>;
