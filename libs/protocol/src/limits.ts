/** Limits every gateway enforces. They are part of the protocol: clients may rely on them. */
export const LIMITS = {
  /** Longest message text, in Unicode code points. @default 2_000 */
  maxTextLength: 2_000,
  /** Display names: 1 to 24 code points of letters, digits, `_`, `-`, `.`. */
  maxNameLength: 24,
  /** Room names: 1 to 32 of `a-z`, `0-9`, `_`, `-`, starting with a letter or digit. */
  maxRoomLength: 32,
  /** Largest Socket.IO frame a gateway reads; bigger frames close the connection (code 1009). */
  maxFrameBytes: 16 * 1024,
} as const;

/** The room every client is in until it joins another. */
export const DEFAULT_ROOM = 'lobby';

const NAME_PATTERN = /^[\p{L}\p{N}_.-]+$/u;
const ROOM_PATTERN = /^[a-z0-9][a-z0-9_-]*$/;

export { NAME_PATTERN, ROOM_PATTERN };
