import type { BrokerIdentity, SettleOptions } from '../cluster-state';
import { encodeEnvelope, type JoinedEnvelope, type LeftEnvelope } from '../envelope';
import { newEpoch } from '../epoch';
import { joinedNotice, leftNotice } from '../quiet-rooms';
import type { RedisBackend } from './redis-backend';
import { CHECK_IN, LOSS_WITNESSED } from './scripts/broker-identity';
import type { MembershipReply } from './scripts/sessions';

/**
 * What the shared state does differently on a Redis Cluster, where the state lives on one shard
 * and the rooms on all of them.
 */

/**
 * The broker-identity check-in (see ClusterState.checkIn): the cluster's epoch and this node's
 * mark, and on a cluster the same on every master, in a slot each serves. A shard that fails
 * over to a replica that missed writes rolls back the rooms it holds and nothing else, so each
 * shard is checked like the single Redis is; a rolled-back shard reads as a mark not written.
 */
export class BrokerCheckIn {
  /** Per shard tag, the epoch found and the mark written at this node's last check-in. */
  private readonly known = new Map<string, { epoch: string; mark: string }>();

  constructor(private readonly redis: RedisBackend) {}

  async checkIn(
    nodeId: string,
    mark: string,
    ttlMs: number,
    settle?: SettleOptions,
  ): Promise<BrokerIdentity> {
    const { names, fence } = this.redis;
    const { suspicion } = fence;
    const found = await this.redis.run(CHECK_IN, {
      keys: {
        cluster_epoch: names.clusterEpoch(),
        node_mark: names.nodeMark(nodeId),
        settle: names.settle(),
        user_counter: names.userCounter(),
      },
      argv: {
        candidate: newEpoch(),
        mark,
        mark_ttl_ms: ttlMs,
        expected: settle?.expected ?? '',
        settle_ms: settle?.settleMs ?? 0,
        suspect: suspicion === undefined ? '0' : '1',
      },
    });
    // Written: this node's fenced writes carry it from now on.
    if (fence.mark === '' && settle !== undefined) fence.firstCheckIn(settle.settleMs);
    fence.node = nodeId;
    fence.mark = mark;
    fence.generation = found.epoch;
    // Handled as a loss found by this check-in (a newer suspicion waits for the next one).
    if (fence.suspicion === suspicion) fence.suspicion = undefined;
    const identity = suspicion === undefined ? found : { ...found, suspected: suspicion };
    if (!this.redis.sharded) return identity;
    const lost = await this.checkShards(nodeId, mark, ttlMs);
    return lost === undefined ? identity : { ...identity, previousMark: lost };
  }

  /** See ClusterState.lossWitnessed. */
  lossWitnessed(witness: string, settleMs: number): Promise<string> {
    const { names } = this.redis;
    return this.redis.run(LOSS_WITNESSED, {
      keys: {
        cluster_epoch: names.clusterEpoch(),
        settle: names.settle(),
        user_counter: names.userCounter(),
      },
      argv: { candidate: newEpoch(), settle_ms: settleMs, witness },
    });
  }

  /**
   * Resolves to why a shard looks lost or rolled back (its epoch changed, or its mark is not the
   * one this node wrote last), else undefined. A shard seen for the first time (at start, or
   * after slots moved) only records what it holds.
   */
  private async checkShards(
    nodeId: string,
    mark: string,
    ttlMs: number,
  ): Promise<string | undefined> {
    const { names } = this.redis;
    let lost: string | undefined;
    await Promise.all(
      this.redis.shards().map(async (shard) => {
        const found = await this.redis.run(CHECK_IN, {
          keys: {
            cluster_epoch: names.shardEpoch(shard),
            node_mark: names.shardMark(shard, nodeId),
            // No settle window on a shard (settle_ms 0): placeholders in the shard's slot.
            settle: names.shardEpoch(shard),
            user_counter: names.shardEpoch(shard),
          },
          argv: {
            candidate: newEpoch(),
            mark,
            mark_ttl_ms: ttlMs,
            expected: '',
            settle_ms: 0,
            suspect: '0',
          },
        });
        const known = this.known.get(shard);
        if (known && (known.epoch !== found.epoch || known.mark !== found.previousMark)) {
          lost = `shard ${shard} lost or rolled back data`;
        }
        this.known.set(shard, { epoch: found.epoch, mark });
      }),
    );
    return lost;
  }
}

/** The membership scripts' `publish` argument: they publish notices themselves on one Redis only. */
export function noticesInScript(redis: RedisBackend): string {
  return redis.sharded ? '' : redis.publishCommand;
}

/**
 * Publishes the notices a membership script found due, on the rooms' shards, `left` before
 * `joined` as the script would have. On one Redis the script published them: nothing to do.
 * The change they announce is made: a notice that cannot be published (the room's shard is
 * failing over) is logged and dropped, never turned into a failed join or leave.
 */
export async function publishNotices(
  redis: RedisBackend,
  reply: MembershipReply,
  left: LeftEnvelope,
  joined?: JoinedEnvelope,
): Promise<void> {
  if (!redis.sharded || reply.status !== 'done') return;
  const { notices } = reply;
  const due = [
    ...(notices.left === 'none' ? [] : [leftNotice(left, notices.left)]),
    ...(notices.joined === 'none' || !joined ? [] : [joinedNotice(joined, notices.joined)]),
  ];
  for (const notice of due) {
    const channel = redis.names.channel({ kind: 'room', room: notice.room });
    try {
      await redis.publish(channel, encodeEnvelope(notice));
    } catch (error) {
      redis.logger.warn(
        { room: notice.room, type: notice.type, err: String(error) },
        'presence notice not published',
      );
    }
  }
}
