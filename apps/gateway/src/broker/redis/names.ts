import { nameKey } from '@chat/protocol';
import { channelName, parseChannel, type Topic } from '../topics';

/**
 * Every Redis key and channel of one cluster, built here and nowhere else (scripts receive them
 * as KEYS and ARGV). All start with the cluster's prefix, so several clusters can share a Redis.
 */
export class RedisNames {
  constructor(readonly prefix: string) {}

  channel(topic: Topic): string {
    return channelName(this.prefix, topic);
  }

  /** The topic of one of our channels; undefined for anything else. */
  topic(channel: string): Topic | undefined {
    return parseChannel(this.prefix, channel);
  }

  // ---- rooms: log and membership ----
  roomSeq(room: string): string {
    return this.key('seq', room);
  }
  roomLog(room: string): string {
    return this.key('log', room);
  }
  /** The room log's epoch: created with its first entry, expires with it. */
  roomEpoch(room: string): string {
    return this.key('epoch', room);
  }
  /** Bytes of drafts in the room's log. */
  roomLogBytes(room: string): string {
    return this.key('log-bytes', room);
  }
  /** Rooms with a stored log, scored by the time (ms) of their last message. */
  roomsStored(): string {
    return this.key('rooms', 'stored');
  }
  /** user id → sessions in the room */
  roomUsers(room: string): string {
    return this.key('room-users', room);
  }
  /** user id → user json */
  roomNames(room: string): string {
    return this.key('room-names', room);
  }
  /** Rooms ranked by users online. */
  roomsOnline(): string {
    return this.key('rooms', 'online');
  }

  // ---- private conversations (see DmStore) ----
  dmSeq(conversation: string): string {
    return this.key('dm-seq', conversation);
  }
  dmLog(conversation: string): string {
    return this.key('dm-log', conversation);
  }
  /** A user's conversations, scored by the time (ms) of their last message. */
  dmConversations(userId: number): string {
    return this.key('dm-convs', String(userId));
  }
  /** A user's marks: `r:<conversation>` (read) and `d:<conversation>` (delivered) -> seq. */
  dmMarks(userId: number): string {
    return this.key('dm-marks', String(userId));
  }
  /** The user id that last held a name, under its comparison key. */
  dmHolder(name: string): string {
    return this.key('dm-holder', nameKey(name));
  }
  dmCid(userId: number, cid: string): string {
    return this.key('dm-cid', `${userId}:${cid}`);
  }

  // ---- sends ----
  sendCid(userId: number, cid: string): string {
    return this.key('cid', `${userId}:${cid}`);
  }
  rateBucket(bucket: string): string {
    return this.key('rate', bucket);
  }
  publishOnce(key: string): string {
    return this.key('once', key);
  }

  // ---- users and sessions ----
  userCounter(): string {
    return this.key('users', 'next');
  }
  subject(subject: string): string {
    return this.key('subject', subject);
  }
  /** A name's claim, under its comparison key (case-insensitive). */
  name(name: string): string {
    return this.key('name', nameKey(name));
  }
  /** A name's grace-period hold (see ClusterState.holdName), under the same comparison key. */
  nameHold(name: string): string {
    return this.key('name-hold', nameKey(name));
  }
  userSessions(userId: number): string {
    return this.key('usessions', String(userId));
  }
  /** The user (json) a user id is online as, while it has sessions. */
  userName(userId: number): string {
    return this.key('uname', String(userId));
  }
  resume(token: string): string {
    return this.key('resume', token);
  }

  // ---- nodes ----
  nodeSessions(nodeId: string): string {
    return this.key('node', nodeId);
  }
  nodeLeases(): string {
    return this.key('nodes', 'leases');
  }
  /** Written by the node's readiness check: proves Redis accepts writes. */
  writeProbe(nodeId: string): string {
    return this.key('write-probe', nodeId);
  }
  reapLock(nodeId: string): string {
    return this.key('reap', nodeId);
  }

  // ---- the broker's identity ----
  /** The cluster's epoch: set once (NX) by the first node; a different value means a new Redis. */
  clusterEpoch(): string {
    return this.key('cluster', 'epoch');
  }
  /** What a node last wrote there; finding anything else means Redis lost or rolled back data. */
  nodeMark(nodeId: string): string {
    return this.key('mark', nodeId);
  }

  private key(kind: string, id: string): string {
    return `${this.prefix}:${kind}:${id}`;
  }
}
