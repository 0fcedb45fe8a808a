import type { IncomingMessage } from 'node:http';
import { chatError, type ChatError } from '@chat/protocol';
import { takeToken, type Bucket } from '../broker/token-bucket';
import { clientAddress } from './client-address';

export interface AdmissionOptions {
  /** Engine.IO sockets (joined or not) this node holds at most. @default 10_000 */
  maxConnections: number;
  /** New connections per second per client address. @default 20 */
  perSecond: number;
  /** Burst of new connections per client address. @default 100 */
  burst: number;
  /** Sockets one address may hold that have not joined the chat yet. @default 50 */
  maxPendingPerAddress: number;
  /** Take the client address from X-Forwarded-For (behind a trusted balancer). @default false */
  trustProxy: boolean;
}

/** Buckets idle this long are forgotten, so scanning addresses cannot grow memory. */
const FORGET_AFTER_MS = 60_000;

interface Admitted {
  address: string;
  joined: boolean;
  closed: boolean;
}

/**
 * Admission at the Engine.IO level, before a socket holds a slot: a cap on sockets per client
 * address that have not joined the chat namespace yet, and a cap on all sockets of the node
 * (Engine.IO's `allowRequest`); then a token bucket per address at the namespace connect. A
 * socket counts from the moment its request is admitted (so upgrades in flight count too) until
 * its engine socket closes (`closed`), or its TCP connection does if no engine socket was ever
 * made.
 *
 * The token is not checked here: Socket.IO carries it in the namespace CONNECT packet, after
 * the engine socket exists. A socket that never sends one is closed after the connect deadline
 * (`connectTimeoutMs`), and counts against its address's pending cap until then.
 */
export class Admission {
  private readonly buckets = new Map<string, Bucket>();
  private readonly admitted = new WeakMap<IncomingMessage, Admitted>();
  private readonly pending = new Map<string, number>();
  private open = 0;
  private lastSweep = Date.now();

  constructor(private readonly options: AdmissionOptions) {}

  /** Engine.IO's `allowRequest` hook: refusals end the upgrade with their message. */
  readonly allowRequest = (
    req: IncomingMessage,
    fn: (err: string | null | undefined, success: boolean) => void,
  ): void => {
    const refused = this.admit(req);
    fn(refused?.message, refused === undefined);
  };

  /** Undefined when the request may open a socket; it then counts until it closes. */
  admit(req: IncomingMessage): ChatError | undefined {
    if (this.isFull()) return chatError('UNAVAILABLE', 'this node is full; try another');
    const address = this.address(req);
    if ((this.pending.get(address) ?? 0) >= this.options.maxPendingPerAddress) {
      return chatError('RATE_LIMITED', 'too many connections waiting to join; slow down');
    }
    const entry: Admitted = { address, joined: false, closed: false };
    this.admitted.set(req, entry);
    this.open++;
    this.pending.set(address, (this.pending.get(address) ?? 0) + 1);
    req.socket.once('close', () => this.release(entry));
    return undefined;
  }

  /**
   * The per-address connection rate, taken at the namespace connect so that a refusal reaches
   * the client coded (RATE_LIMITED in `connect_error.data`); an Engine.IO refusal can only be
   * an HTTP status. Bare sockets that never get this far are bounded by the pending cap.
   */
  takeConnectToken(req: IncomingMessage, now = Date.now()): ChatError | undefined {
    this.forgetIdle(now);
    const address = this.address(req);
    const { allowed, bucket } = takeToken(
      this.buckets.get(address),
      now,
      this.options.perSecond,
      this.options.burst,
    );
    this.buckets.set(address, bucket);
    return allowed ? undefined : chatError('RATE_LIMITED', 'too many connections; slow down');
  }

  /**
   * What to call when the engine socket of `req` closes. Its TCP connection may linger for the
   * websocket closing handshake (up to 30 s with a peer that never answers), but it holds no
   * slot any more. Holds the slot, not the request, which the connection may drop meanwhile.
   */
  releaser(req: IncomingMessage): () => void {
    const entry = this.admitted.get(req);
    return () => {
      if (entry) this.release(entry);
    };
  }

  /** The socket behind `req` joined the chat: it no longer counts as waiting. */
  joined(req: IncomingMessage): void {
    const entry = this.admitted.get(req);
    if (entry) this.settle(entry);
  }

  /** Every socket this node holds, joined or not. */
  get sockets(): number {
    return this.open;
  }

  /** Sockets that have not joined the chat (yet). */
  get waiting(): number {
    let total = 0;
    for (const count of this.pending.values()) total += count;
    return total;
  }

  isFull(): boolean {
    return this.open >= this.options.maxConnections;
  }

  private release(entry: Admitted): void {
    if (entry.closed) return;
    entry.closed = true;
    this.open--;
    this.settle(entry);
  }

  private settle(entry: Admitted): void {
    if (entry.joined) return;
    entry.joined = true;
    const left = (this.pending.get(entry.address) ?? 1) - 1;
    if (left > 0) this.pending.set(entry.address, left);
    else this.pending.delete(entry.address);
  }

  private address(req: IncomingMessage): string {
    const peer = { headers: req.headers, address: req.socket.remoteAddress ?? 'unknown' };
    return clientAddress(peer, this.options.trustProxy);
  }

  private forgetIdle(now: number): void {
    if (now - this.lastSweep < FORGET_AFTER_MS) return;
    this.lastSweep = now;
    for (const [address, bucket] of this.buckets) {
      if (now - bucket.at > FORGET_AFTER_MS) this.buckets.delete(address);
    }
  }
}
