import {
  DEFAULT_ROOM,
  PROTOCOL_VERSION,
  SeqTracker,
  type DirectMessage,
  type Handshake,
  type UserRef,
  type Welcome,
} from '@chat/protocol';

/**
 * Ids of the DMs kept per conversation to know a DM given again: as many as a conversation
 * stores (DM_HISTORY_LIMIT's default), the most one catch-up can give. @default 1_000
 */
const DM_IDS_KEPT = 1_000;

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
  /** Ids of the DMs given to us per conversation, oldest first (at most DM_IDS_KEPT each). */
  private readonly dmIds = new Map<string, Set<string>>();

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

  /**
   * Records a DM of ours (given to us, or our own acked one); false when we already had it. A
   * catch-up after the broker lost the end of a conversation (a Sentinel promotion that lost
   * writes) starts below what we were given and gives those DMs again, same `id`: shown once.
   * Its position then stays where it was.
   */
  dmGiven({ conversation, seq, id }: Pick<DirectMessage, 'conversation' | 'seq' | 'id'>): boolean {
    let ids = this.dmIds.get(conversation);
    if (ids === undefined) this.dmIds.set(conversation, (ids = new Set()));
    if (ids.has(id)) return false;
    ids.add(id);
    const oldest = ids.values().next();
    if (ids.size > DM_IDS_KEPT && oldest.done !== true) ids.delete(oldest.value);
    this.dmSeen(conversation, seq);
    return true;
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
