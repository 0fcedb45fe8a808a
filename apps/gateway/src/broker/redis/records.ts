import type { NameHold, ResumeRecord } from '../cluster-state';
import { parseUser } from '../users';

/**
 * Records RedisState keeps as JSON, read back defensively: anything malformed (a bug, or a key
 * written by another version) reads as absent rather than throwing.
 */
export function parseHold(json: string): NameHold | undefined {
  try {
    const value = JSON.parse(json) as Partial<Record<keyof NameHold, unknown>>;
    const { userId, address, until } = value;
    return typeof userId === 'number' && typeof address === 'string' && typeof until === 'number'
      ? { userId, address, until }
      : undefined;
  } catch {
    return undefined;
  }
}

export function parseResume(json: string): ResumeRecord | undefined {
  try {
    const value = JSON.parse(json) as {
      user?: unknown;
      sid?: unknown;
      session?: unknown;
      subject?: unknown;
    };
    const user = parseUser(JSON.stringify(value.user ?? null));
    if (!user || typeof value.sid !== 'string') return undefined;
    const record: ResumeRecord = { user, sid: value.sid };
    if (typeof value.subject === 'string') record.subject = value.subject;
    const session = value.session as { nodeId?: unknown; key?: unknown } | undefined;
    if (typeof session?.nodeId === 'string' && typeof session.key === 'string') {
      record.session = { nodeId: session.nodeId, key: session.key };
    }
    return record;
  } catch {
    return undefined;
  }
}
