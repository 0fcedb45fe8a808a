import { chatError, type ChatError } from '@chat/protocol';
import { takeToken, type Bucket } from '../broker/token-bucket';
import { clientAddress } from './client-address';
import type { ChatSocket } from './socket';

export interface JoinBudgetOptions {
  /** Joins per second per user on this node (the handshake's first join included). @default 2 */
  perSecond: number;
  /** Burst of that budget. @default 10 */
  burst: number;
  /** Joins and handshakes with `since` (replays) per second per client address. @default 10 */
  replaysPerSecond: number;
  /** Burst of that budget. @default 60 */
  replayBurst: number;
  /** Take the client address from X-Forwarded-For (behind a trusted balancer). @default false */
  trustProxy: boolean;
}

/** Buckets idle this long are forgotten, so a crowd of users or addresses cannot grow memory. */
const FORGET_AFTER_MS = 60_000;

/**
 * What a join may cost before any work is done for it. A join publishes presence notices to
 * every member of two rooms on every node and reads history, so each user has a join budget,
 * and each client address a budget of replays (joins with `since`, which read the most).
 * Refusals are RATE_LIMITED (retryable) and change nothing: the client stays where it was.
 */
export class JoinBudget {
  private readonly users = new Map<number, Bucket>();
  private readonly addresses = new Map<string, Bucket>();
  private lastSweep = Date.now();

  constructor(private readonly options: JoinBudgetOptions) {}

  /**
   * Takes a join request from the user's budget, and from the address's replay budget when it
   * has `since`; undefined when it may go ahead. (The handshake's join is charged here for the
   * user and by {@link takeReplay} for the address.)
   */
  take(
    userId: number,
    socket: ChatSocket,
    since: number | undefined,
    origin: 'request' | 'handshake',
    now = Date.now(),
  ): ChatError | undefined {
    this.forgetIdle(now);
    const { perSecond, burst } = this.options;
    if (!this.takeFrom(this.users, userId, now, perSecond, burst)) {
      return chatError(
        'RATE_LIMITED',
        `too many joins: at most ${perSecond} per second (bursts of ${burst}); retry in a moment`,
      );
    }
    return since === undefined || origin === 'handshake' ? undefined : this.replay(socket, now);
  }

  /** At the handshake, before any work: a connection asking for a replay takes from its address. */
  takeReplay(socket: ChatSocket, now = Date.now()): ChatError | undefined {
    const auth: unknown = socket.handshake.auth;
    const since = typeof auth === 'object' && auth !== null && 'since' in auth;
    return since ? this.replay(socket, now) : undefined;
  }

  /**
   * A room `history` page or a `search` reads what a replay reads (the log, the archive): it
   * takes from the same per-address budget.
   */
  takeRead(socket: ChatSocket, now = Date.now()): ChatError | undefined {
    return this.replay(socket, now, 'history pages and searches');
  }

  private replay(
    socket: ChatSocket,
    now: number,
    what = 'replays (joins with since)',
  ): ChatError | undefined {
    this.forgetIdle(now);
    const { replaysPerSecond, replayBurst } = this.options;
    if (
      this.takeFrom(
        this.addresses,
        clientAddress(socket.handshake, this.options.trustProxy),
        now,
        replaysPerSecond,
        replayBurst,
      )
    ) {
      return undefined;
    }
    return chatError(
      'RATE_LIMITED',
      `too many ${what} from your address: at most ${replaysPerSecond} per second; retry in a moment`,
    );
  }

  private takeFrom<K>(
    buckets: Map<K, Bucket>,
    key: K,
    now: number,
    perSecond: number,
    burst: number,
  ): boolean {
    const { allowed, bucket } = takeToken(buckets.get(key), now, perSecond, burst);
    buckets.set(key, bucket);
    return allowed;
  }

  private forgetIdle(now: number): void {
    if (now - this.lastSweep < FORGET_AFTER_MS) return;
    this.lastSweep = now;
    for (const buckets of [this.users, this.addresses] as Map<unknown, Bucket>[]) {
      for (const [key, bucket] of buckets) {
        if (now - bucket.at > FORGET_AFTER_MS) buckets.delete(key);
      }
    }
  }
}
