import { NameKeys } from '../name-keys';
import { channelName, parseChannel, type Topic } from '../topics';

/**
 * Every Redis key and channel of one cluster, built here and nowhere else (scripts receive them
 * as KEYS and ARGV). All start with the cluster's prefix, so several clusters can share a Redis.
 *
 * On a Redis Cluster (`sharded`) a script may touch only keys of one slot, so keys carry a hash
 * tag (`{...}`, the only part Redis hashes) naming what they belong to:
 * - a room's keys (seq, log, epoch, bytes, its senders' cids) are tagged with the room's
 *   channel name, so they share the slot of the channel the append SPUBLISHes to (room names
 *   and prefixes never contain braces, so the channel name hashes whole);
 * - a conversation's keys (seq, log, cids) with `<prefix>#dm#<conversation>#`;
 * - the shared state (user ids, names, sessions, presence, node leases, the cluster epoch, the
 *   index of stored rooms) with `<prefix>#state#`: one shard, touched by connects, joins,
 *   leaves and lease rounds, never by a message;
 * - per-shard marks with a tag of that shard (see `shard`).
 * Keys used alone (rate buckets, resume records, name holds) need no tag. Without `sharded`
 * no key carries a tag and every name is as it always was.
 */
export class RedisNames {
  private readonly nameKeys = new NameKeys();

  constructor(
    readonly prefix: string,
    readonly sharded = false,
  ) {}

  channel(topic: Topic): string {
    return channelName(this.prefix, topic);
  }

  /** The topic of one of our channels; undefined for anything else. */
  topic(channel: string): Topic | undefined {
    return parseChannel(this.prefix, channel);
  }

  // ---- rooms: log and membership ----
  roomSeq(room: string): string {
    return this.key('seq', room, this.roomTag(room));
  }
  roomLog(room: string): string {
    return this.key('log', room, this.roomTag(room));
  }
  /** The room log's epoch: created with its first entry, expires with it. */
  roomEpoch(room: string): string {
    return this.key('epoch', room, this.roomTag(room));
  }
  /** Bytes of drafts in the room's log. */
  roomLogBytes(room: string): string {
    return this.key('log-bytes', room, this.roomTag(room));
  }
  /** Rooms with a stored log, scored by the time (ms) of their last message. */
  roomsStored(): string {
    return this.key('rooms', 'stored', this.stateTag());
  }
  /** user id → sessions in the room */
  roomUsers(room: string): string {
    return this.key('room-users', room, this.stateTag());
  }
  /** user id → user json */
  roomNames(room: string): string {
    return this.key('room-names', room, this.stateTag());
  }
  /** Rooms ranked by users online. */
  roomsOnline(): string {
    return this.key('rooms', 'online', this.stateTag());
  }

  // ---- private conversations (see DmStore) ----
  dmSeq(conversation: string): string {
    return this.key('dm-seq', conversation, this.dmTag(conversation));
  }
  dmLog(conversation: string): string {
    return this.key('dm-log', conversation, this.dmTag(conversation));
  }
  /** A user's conversations, scored by the time (ms) of their last message. */
  dmConversations(userId: number): string {
    return this.key('dm-convs', String(userId));
  }
  /** A user's marks: `r:<conversation>` (read) and `d:<conversation>` (delivered) -> seq. */
  /** Conversations by the time of their latest message (the archive's recovery sweep). */
  dmActive(): string {
    return this.key('dm-active', 'all');
  }

  dmMarks(userId: number): string {
    return this.key('dm-marks', String(userId));
  }
  /** The user id that last held a name, under its comparison key. */
  dmHolder(name: string): string {
    return this.key('dm-holder', this.nameKeys.of(name));
  }
  /** A sender's retry id in a conversation (on a cluster, in the conversation's slot). */
  dmCid(conversation: string, userId: number, cid: string): string {
    return this.key('dm-cid', `${userId}:${cid}`, this.dmTag(conversation));
  }

  /** The user a sender's DM with this retry id was first addressed to (in the sender's slot). */
  dmRecipient(userId: number, cid: string): string {
    return this.key('dm-to', `${userId}:${cid}`);
  }

  // ---- sends ----
  /** A sender's retry id (`cid`) of a room message (on a cluster, in the room's slot). */
  sendCid(room: string, userId: number, cid: string): string {
    return this.key('cid', `${userId}:${cid}`, this.roomTag(room));
  }
  rateBucket(bucket: string): string {
    return this.key('rate', bucket);
  }
  /** A publish's dedupe key (on a cluster, in the slot of the channel it publishes to). */
  publishOnce(topic: Topic, key: string): string {
    return this.key('once', key, this.channel(topic));
  }

  // ---- users and sessions ----
  userCounter(): string {
    return this.key('users', 'next', this.stateTag());
  }
  subject(subject: string): string {
    return this.key('subject', subject, this.stateTag());
  }
  /** A name's claim, under its comparison key (case-insensitive). */
  name(name: string): string {
    return this.key('name', this.nameKeys.of(name), this.stateTag());
  }
  /** A name's grace-period hold (see ClusterState.holdName), under the same comparison key. */
  nameHold(name: string): string {
    return this.key('name-hold', this.nameKeys.of(name));
  }
  userSessions(userId: number): string {
    return this.key('usessions', String(userId), this.stateTag());
  }
  /** The user (json) a user id is online as, while it has sessions. */
  userName(userId: number): string {
    return this.key('uname', String(userId), this.stateTag());
  }
  resume(token: string): string {
    return this.key('resume', token);
  }
  /** The keys resume tokens are signed with (see ResumeTokens). */
  resumeKeys(): string {
    return this.key('resume-keys', '', this.stateTag());
  }

  // ---- nodes ----
  nodeSessions(nodeId: string): string {
    return this.key('node', nodeId, this.stateTag());
  }
  nodeLeases(): string {
    return this.key('nodes', 'leases', this.stateTag());
  }
  /** Written by the node's readiness check: proves Redis accepts writes. */
  writeProbe(nodeId: string): string {
    return this.key('write-probe', nodeId);
  }
  reapLock(nodeId: string): string {
    return this.key('reap', nodeId, this.stateTag());
  }

  // ---- the broker's identity ----
  /** The cluster's epoch: set once (NX) by the first node; a different value means a new Redis. */
  clusterEpoch(): string {
    return this.key('cluster', 'epoch', this.stateTag());
  }
  /** What a node last wrote there; finding anything else means Redis lost or rolled back data. */
  nodeMark(nodeId: string): string {
    return this.key('mark', nodeId, this.stateTag());
  }
  /** Exists while the cluster settles after a loss (see BrokerFence). */
  settle(): string {
    return this.key('settle', '', this.stateTag());
  }

  // ---- a cluster's shards (see RedisState.checkIn) ----
  /** The epoch of the data on the shard serving `shard`'s slot. */
  shardEpoch(shard: string): string {
    return this.key('shard-epoch', '', shard);
  }
  /** What a node last wrote on the shard serving `shard`'s slot. */
  shardMark(shard: string, nodeId: string): string {
    return this.key('shard-mark', nodeId, shard);
  }

  /** The tag of the shared state's keys: one slot, hence one shard of a cluster. */
  stateTag(): string {
    return `${this.prefix}#state#`;
  }

  private roomTag(room: string): string {
    return this.channel({ kind: 'room', room });
  }

  private dmTag(conversation: string): string {
    return `${this.prefix}#dm#${conversation}#`;
  }

  /** `<prefix>:<kind>:<id>`, and on a cluster `<prefix>:<kind>:{<tag>}<id>`. */
  private key(kind: string, id: string, tag?: string): string {
    if (this.sharded && tag !== undefined) return `${this.prefix}:${kind}:{${tag}}${id}`;
    return `${this.prefix}:${kind}:${id}`;
  }
}
