import type {
  ChatError,
  ChatMessage,
  DirectMessage,
  Gap,
  LeftNotice,
  PresenceNotice,
  Synced,
  Welcome,
} from '@chat/protocol';

/**
 * Everything the ChatClient reports to the mode that shows it (terminal or pipe), as one
 * discriminated union delivered to a single handler. Server events are passed through as the
 * gateway sent them, one for one: the client never drops or merges live events, so a duplicate
 * from a server bug shows up on screen (and in tests) instead of being hidden. The one exception
 * is a replayed (`history`) room message whose seq it has already shown: its own resume asked
 * from the contiguous watermark, below what it had seen.
 */
export type ClientEvent =
  /** A `welcome`; `reconnected` is true for every welcome after the first. */
  | { type: 'welcome'; welcome: Welcome; reconnected: boolean }
  | { type: 'message'; message: ChatMessage }
  /** `mine`: a DM this user sent from another client (each client sees the whole conversation). */
  | { type: 'dm'; message: DirectMessage; mine: boolean }
  | { type: 'joined'; notice: PresenceNotice }
  | { type: 'left'; notice: LeftNotice }
  | { type: 'synced'; synced: Synced }
  /**
   * Derived, not a server event: the room became quiet (a `joined` with `quiet: true`, or a
   * `synced` with `quiet`: joins and leaves are not announced) or announced again (a `left`
   * with `quiet: false`). Reported right after the event that carried it.
   */
  | { type: 'quiet'; room: string; quiet: boolean }
  | { type: 'gap'; gap: Gap }
  /** The gateway refused an event that carried no ack (protocol `error` event). */
  | { type: 'server-error'; error: ChatError }
  /**
   * A gateway answered but cannot serve yet (UNAVAILABLE: its broker is away, say); we are
   * connected to it and keep trying. Reported once per distinct refusal, not every attempt.
   */
  | { type: 'waiting'; url: string; error: ChatError }
  /** The node we were on went away (not by our own quit); fail-over has started. */
  | { type: 'connection-lost'; url: string; reason: string };

export type ClientEventHandler = (event: ClientEvent) => void;
