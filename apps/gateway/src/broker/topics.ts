/**
 * Where envelopes travel. Each topic is one pub/sub channel, so a node receives a room's traffic
 * only while it subscribes to that room (i.e. while it has local members there).
 */
export type Topic =
  | { kind: 'room'; room: string }
  | { kind: 'user'; userId: number }
  | { kind: 'node'; nodeId: string };

/** Node ids appear in channel names and Redis keys, so they are kept to a safe alphabet. */
export const NODE_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

const DELIMITER = '#';

/**
 * Channel names use fixed delimiters, `<prefix>#room#<room>#`, so that one name can never be a
 * prefix of another (`lobby` vs `lobby2`) and the parts can be read back unambiguously.
 */
export function channelName(prefix: string, topic: Topic): string {
  switch (topic.kind) {
    case 'room':
      return `${prefix}#room#${topic.room}#`;
    case 'user':
      return `${prefix}#user#${topic.userId}#`;
    case 'node':
      return `${prefix}#node#${topic.nodeId}#`;
  }
}

/** The inverse of {@link channelName}; undefined for anything it did not produce. */
export function parseChannel(prefix: string, channel: string): Topic | undefined {
  const head = prefix + DELIMITER;
  if (!channel.startsWith(head) || !channel.endsWith(DELIMITER)) return undefined;
  const rest = channel.slice(head.length, -1);
  const split = rest.indexOf(DELIMITER);
  if (split < 0) return undefined;
  const kind = rest.slice(0, split);
  const id = rest.slice(split + 1);
  if (id.length === 0 || id.includes(DELIMITER)) return undefined;
  switch (kind) {
    case 'room':
      return { kind, room: id };
    case 'user': {
      const userId = Number(id);
      return Number.isSafeInteger(userId) && userId > 0 && String(userId) === id
        ? { kind, userId }
        : undefined;
    }
    case 'node':
      return NODE_ID_PATTERN.test(id) ? { kind, nodeId: id } : undefined;
    default:
      return undefined;
  }
}

export function topicKey(topic: Topic): string {
  return channelName('', topic);
}
