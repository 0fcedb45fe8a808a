import { PROTOCOL_VERSION } from '@chat/protocol';
import type { ClientSpec } from './protocol';

/** The answer to a `send`: what both ours and the baselines put in the ack. */
export interface SendAck {
  ok: boolean;
  error?: { code?: string };
}

/**
 * A chat client as the generator needs it, over either client implementation: the raw one
 * (the default: cheap enough that the generators are not the bottleneck) or socket.io-client.
 */
export interface BenchClient {
  readonly spec: ClientSpec;
  send(text: string, ack: (response: SendAck) => void): void;
  /** Stops reading from the connection (the kernel buffers fill, then the server's). */
  pause(): void;
  resume(): void;
  /** The connection is closed (by either side). */
  readonly closed: boolean;
  close(): void;
}

export interface ClientHandlers {
  /** A room message arrived; only its text is needed. */
  message(text: string): void;
  /** The connection dropped after the client was in its room. */
  disconnected(): void;
  /** Back in the room on a fallback URL (see ClientSpec.fallbackUrls). */
  reconnected?(): void;
  /** No fallback took the client back before its deadline. */
  gaveUp?(): void;
}

export type ClientKind = 'raw' | 'socket.io';

export type Connect = (spec: ClientSpec, handlers: ClientHandlers) => Promise<BenchClient>;

/** The handshake `auth` of a bench client. */
export function handshake(spec: ClientSpec): { v: number; room: string; batch?: true } {
  return spec.batch
    ? { v: PROTOCOL_VERSION, room: spec.room, batch: true }
    : { v: PROTOCOL_VERSION, room: spec.room };
}

/** Where a client stood when its connection dropped: what it sends to resume (ours). */
export interface ResumePoint {
  resume?: string;
  since?: number;
  epoch?: string;
}
