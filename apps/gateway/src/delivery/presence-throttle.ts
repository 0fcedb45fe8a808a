import { takeToken, type Bucket } from '../broker/token-bucket';
import type { Emitter } from '../sessions/socket';

export interface PresenceThrottleOptions {
  /** `joined`/`left` notices per second shown for one user in one room. @default 2 */
  perSecond: number;
  /** Burst of that budget: ordinary comings and goings are never held. @default 5 */
  burst: number;
}

/** One presence notice: the user's new state in the room and how to tell a member about it. */
export interface PresenceNotice {
  state: 'joined' | 'left';
  emit: (to: Emitter) => void;
}

interface Track {
  bucket: Bucket | undefined;
  /** The state the room's members were last told. */
  shown: PresenceNotice['state'] | undefined;
  /** The newest notice held back while over budget. */
  held: PresenceNotice | undefined;
  timer: NodeJS.Timeout | undefined;
}

/** Tracks idle this long are forgotten. @default 60_000 */
const FORGET_AFTER_MS = 60_000;

/**
 * Keeps one user flapping in and out of a room from flooding its members. Within the budget
 * every transition is shown at once, exactly one notice each, as the cluster published it. Over
 * it, notices are held and collapse to the newest: when the budget allows again, the members are
 * told the user's final state if it differs from the one they were last told, else nothing (a
 * joined+left pair cancels out). So members see at most about `burst + 2 × perSecond` notices
 * per user per second, and always end up with the truth.
 */
export class PresenceThrottle {
  private readonly tracks = new Map<number, Track>();
  private lastSweep = Date.now();

  constructor(
    private readonly options: PresenceThrottleOptions,
    private readonly show: (userId: number, emit: (to: Emitter) => void) => void,
  ) {}

  offer(userId: number, notice: PresenceNotice, now = Date.now()): void {
    this.forgetIdle(now);
    let track = this.tracks.get(userId);
    if (!track) {
      track = { bucket: undefined, shown: undefined, held: undefined, timer: undefined };
      this.tracks.set(userId, track);
    }
    if (track.timer === undefined) {
      const { perSecond, burst } = this.options;
      const { allowed, bucket } = takeToken(track.bucket, now, perSecond, burst);
      track.bucket = bucket;
      if (allowed) {
        track.shown = notice.state;
        this.show(userId, notice.emit);
        return;
      }
    }
    track.held = notice;
    if (track.timer === undefined) {
      const settle = (): void => this.settle(userId);
      track.timer = setTimeout(settle, Math.ceil(1_000 / this.options.perSecond));
      track.timer.unref();
    }
  }

  close(): void {
    for (const track of this.tracks.values()) clearTimeout(track.timer);
    this.tracks.clear();
  }

  private settle(userId: number): void {
    const track = this.tracks.get(userId);
    if (!track) return;
    clearTimeout(track.timer);
    track.timer = undefined;
    const held = track.held;
    track.held = undefined;
    if (held && held.state !== track.shown) {
      track.shown = held.state;
      this.show(userId, held.emit);
    }
  }

  private forgetIdle(now: number): void {
    if (now - this.lastSweep < FORGET_AFTER_MS) return;
    this.lastSweep = now;
    for (const [userId, track] of this.tracks) {
      if (track.timer === undefined && now - (track.bucket?.at ?? 0) > FORGET_AFTER_MS) {
        this.tracks.delete(userId);
      }
    }
  }
}
