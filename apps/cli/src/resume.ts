import {
  DEFAULT_ROOM,
  PROTOCOL_VERSION,
  SeqTracker,
  type Handshake,
  type UserRef,
  type Welcome,
} from '@chat/protocol';

/**
 * Everything a reconnect needs to come back as the same user, in the same room, without
 * missing or repeating messages: the latest `resumeToken`, the current room, and the seq
 * watermark of every room we have been in. Each connection attempt builds its handshake from
 * here, so it always carries the state as of that attempt.
 */
export class ResumeState {
  readonly seqs = new SeqTracker();
  /** Our identity, from the latest `welcome`. */
  user: UserRef | undefined;
  /** The room we are in: where sends go and what a reconnect rejoins. */
  room: string;
  /** The broker's data generation, from the latest `welcome` (see FirstTry). */
  generation: string | undefined;
  private resumeToken: string | undefined;
  /** Last DM seq seen per conversation: a reconnect gets what came after, once. */
  private readonly dms: Record<string, number> = {};

  constructor(
    private readonly identity: { name?: string; token?: string },
    room: string = DEFAULT_ROOM,
  ) {
    this.room = room;
  }

  dmSeen(conversation: string, seq: number): void {
    // The latest, not the highest: a conversation that started over (expired) counts from its new seqs.
    this.dms[conversation] = seq;
  }

  /** Records a `welcome`; true if it is a reconnect (there was a welcome before). */
  welcomed(welcome: Welcome): boolean {
    const again = this.user !== undefined;
    this.resumeToken = welcome.resumeToken;
    this.user = welcome.user;
    this.room = welcome.room;
    this.generation = welcome.generation;
    return again;
  }

  /**
   * The handshake for the next attempt. `name` goes along with `resume`: a gateway that still
   * knows the token ignores it, and one that does not can at least give us our name back.
   */
  handshake(): Handshake {
    const auth: Handshake = { v: PROTOCOL_VERSION, room: this.room, batch: true };
    if (this.identity.name !== undefined) auth.name = this.identity.name;
    if (this.identity.token !== undefined) auth.token = this.identity.token;
    if (this.resumeToken !== undefined) auth.resume = this.resumeToken;
    if (Object.keys(this.dms).length > 0) auth.dms = { ...this.dms };
    const since = this.seqs.since(this.room);
    if (since !== undefined) auth.since = since;
    const epoch = this.seqs.epoch(this.room);
    if (since !== undefined && epoch !== undefined) auth.epoch = epoch;
    return auth;
  }
}
