import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ResumeKey, ResumeRecord } from '../broker/cluster-state';
import { MAX_RESUME_KEYS } from '../broker/resume-keys';
import { parseUser } from '../broker/users';

/**
 * Resume tokens that name their user, so a resume still works after the broker lost the
 * token's record (Redis restarted empty, or from an older snapshot, while the session's node was
 * dead or the session waited out its grace period): the token is `<payload>.<key id>.<mac>`,
 * the payload its session's user, sid and subject and until when it is good, signed
 * (HMAC-SHA256) with this node's key.
 *
 * Every node shares its keys through the broker each lease round (ClusterState.shareResumeKeys)
 * and keeps every key it saw in memory for `keepMs` after its node was last seen alive, so a
 * token that any node signed, even one that has died since, is verified by every node, also
 * right after Redis lost the ring: the live nodes still hold it and write it back.
 *
 * The record in the broker stays the first answer (it knows the session's last connection,
 * for the take-over); the signature only stands in when the record is gone. Verifying needs no
 * broker call, so a made-up token costs one HMAC and is answered like an unknown one.
 */
export class ResumeTokens {
  private readonly own: { id: string; secret: string };
  private readonly keys = new Map<string, { secret: string; seen: number }>();
  /** When this node first read the broker's keys (undefined: not yet). */
  private firstLearned: number | undefined;

  /**
   * @param keepMs how long a key is kept after its node was last seen (RESUME_TTL_MS + NODE_TTL_MS)
   * @param learningMs how long after it first read the broker's keys a node may still be missing
   *   some: the live nodes write theirs back within a lease round after Redis lost them
   */
  constructor(
    private readonly keepMs: number,
    private readonly learningMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.own = { id: randomBytes(6).toString('hex'), secret: randomBytes(32).toString('hex') };
    this.keys.set(this.own.id, { secret: this.own.secret, seen: now() });
  }

  /**
   * A token standing for `record` (its `session` is not part of it). Its signature is good for
   * `validMs` (RESUME_TTL_MS) from now: never longer than its record, which lives that long
   * after the session ends.
   */
  issue(record: ResumeRecord, validMs: number): string {
    const payload = Buffer.from(
      JSON.stringify({
        user: record.user,
        sid: record.sid,
        ...(record.subject === undefined ? {} : { subject: record.subject }),
        until: this.now() + validMs,
      }),
    ).toString('base64url');
    return `${payload}.${this.own.id}.${this.mac(this.own.secret, payload, this.own.id)}`;
  }

  /** What a token this cluster signed stands for; undefined for anything else. */
  verify(token: string): ResumeRecord | undefined {
    const [payload, id, mac, ...rest] = token.split('.');
    if (payload === undefined || id === undefined || mac === undefined || rest.length > 0) {
      return undefined;
    }
    const key = this.keys.get(id);
    if (!key) return undefined;
    const expected = Buffer.from(this.mac(key.secret, payload, id), 'base64url');
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    return parsePayload(Buffer.from(payload, 'base64url').toString(), this.now());
  }

  /**
   * True for a token signed with a key this node does not know while it may still be learning
   * the keys (it started moments ago, possibly just after Redis lost them): the caller should
   * have the client retry rather than treat it as a stranger.
   */
  mayLearnKey(token: string): boolean {
    const id = token.split('.')[1];
    if (id === undefined || this.keys.has(id)) return false;
    return this.firstLearned === undefined || this.now() - this.firstLearned < this.learningMs;
  }

  /** The keys to write to the broker: ours as seen now, and every other one this node knows. */
  shared(): ResumeKey[] {
    const own = this.keys.get(this.own.id);
    if (own) own.seen = Math.max(own.seen, this.now());
    return [...this.keys].map(([id, { secret, seen }]) => ({ id, secret, seen }));
  }

  /** Takes in the keys the broker holds; forgets keys not seen for `keepMs`, keeps the newest. */
  learn(keys: readonly ResumeKey[]): void {
    this.firstLearned ??= this.now();
    for (const { id, secret, seen } of keys) {
      const known = this.keys.get(id);
      if (known === undefined) this.keys.set(id, { secret, seen });
      else if (known.secret === secret) known.seen = Math.max(known.seen, seen);
    }
    const oldest = this.now() - this.keepMs;
    const others = [...this.keys].filter(([id]) => id !== this.own.id);
    others.sort(([, a], [, b]) => b.seen - a.seen);
    // Ours always stays, so the others get one place less.
    others.forEach(([id, { seen }], i) => {
      if (seen < oldest || i >= MAX_RESUME_KEYS - 1) this.keys.delete(id);
    });
  }

  private mac(secret: string, payload: string, id: string): string {
    return createHmac('sha256', secret).update(`${payload}.${id}`).digest('base64url');
  }
}

function parsePayload(json: string, now: number): ResumeRecord | undefined {
  try {
    const value = JSON.parse(json) as {
      user?: unknown;
      sid?: unknown;
      subject?: unknown;
      until?: unknown;
    };
    const user = parseUser(JSON.stringify(value.user ?? null));
    if (!user || typeof value.sid !== 'string') return undefined;
    if (typeof value.until !== 'number' || value.until <= now) return undefined;
    return {
      user,
      sid: value.sid,
      ...(typeof value.subject === 'string' ? { subject: value.subject } : {}),
    };
  } catch {
    return undefined;
  }
}
