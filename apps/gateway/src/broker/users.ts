import type { UserRef } from '@chat/protocol';

/** The canonical encoding of a user: claims compare these strings. */
export function userJson(user: UserRef): string {
  return JSON.stringify({ id: user.id, name: user.name });
}

/** A user read back from the broker; undefined for anything malformed. */
export function parseUser(json: string): UserRef | undefined {
  try {
    const value: unknown = JSON.parse(json);
    if (typeof value !== 'object' || value === null) return undefined;
    const { id, name } = value as Record<string, unknown>;
    return typeof id === 'number' && typeof name === 'string' ? { id, name } : undefined;
  } catch {
    return undefined;
  }
}
