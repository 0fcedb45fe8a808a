import type { JoinedEnvelope, LeftEnvelope } from './envelope';

/**
 * Presence in large rooms. Announcing every join to every member costs N²/2 notices to fill a
 * room of N (1,000 members took 7.9 s, 10,000 did not fill in 300 s). So, as large chat
 * services do, a room with more than `quietAbove` members (users) is quiet: its joins and
 * leaves are not announced, and `who` still lists everyone. The change across that size is
 * announced with a flag, so members know: the join that takes the room above it carries
 * `quiet: true`, the leave that brings it back carries `quiet: false`. The decision is taken in
 * the same atomic step that changes the count (the membership scripts mirror this function), so
 * nodes never disagree about it.
 */
export type Announcement = 'none' | 'plain' | 'crossing';

/** Members above which a room's joins and leaves are not announced. @default 200 */
export const DEFAULT_QUIET_ABOVE = 200;

/** What a join (`joined`) or a leave (`left`) that leaves the room with `members` users announces. */
export function announcement(
  change: 'joined' | 'left',
  members: number,
  quietAbove: number,
): Announcement {
  const limit = change === 'joined' ? quietAbove + 1 : quietAbove;
  if (members > limit) return 'none';
  return members === limit ? 'crossing' : 'plain';
}

/** The join as published: flagged when it makes the room quiet. */
export function joinedNotice(joined: JoinedEnvelope, announced: Announcement): JoinedEnvelope {
  return announced === 'crossing' ? { ...joined, quiet: true } : joined;
}

/** The leave as published: flagged when it makes the room announced again. */
export function leftNotice(left: LeftEnvelope, announced: Announcement): LeftEnvelope {
  return announced === 'crossing' ? { ...left, quiet: false } : left;
}
