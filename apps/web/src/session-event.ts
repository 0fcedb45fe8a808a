import type {
  ChatError,
  ChatMessage,
  ConversationSummary,
  DirectMessage,
  HistoryResult,
  LeftNotice,
  PresenceNotice,
  RoomHistoryResult,
  RoomsResult,
  Synced,
  UserRef,
  Welcome,
} from '@chat/protocol';
import type { OutgoingLine } from './outbox';

/** Everything the page shows comes through this one union, from one handler. */
export type SessionEvent =
  | { type: 'welcome'; welcome: Welcome; reconnected: boolean }
  /** Refused at connect for good (name taken, bad token): back to the join form. */
  | { type: 'refused'; error: ChatError }
  | { type: 'connection'; state: 'offline' | 'waiting'; detail: string }
  | { type: 'message'; message: ChatMessage }
  | { type: 'synced'; synced: Synced }
  | { type: 'dm'; message: DirectMessage }
  | { type: 'joined'; notice: PresenceNotice }
  | { type: 'left'; notice: LeftNotice }
  | { type: 'lost'; room: string; count: number }
  /** The room's log started a new epoch (the servers lost data): its history starts again. */
  | { type: 'renewed'; room: string }
  | { type: 'error'; error: ChatError }
  | { type: 'queued'; line: OutgoingLine }
  | { type: 'acked'; line: OutgoingLine; to?: UserRef }
  | { type: 'line-refused'; line: OutgoingLine; error: ChatError }
  | { type: 'members'; room: string; members: UserRef[]; asked: boolean }
  | { type: 'rooms'; rooms: RoomsResult['rooms']; asked: boolean }
  /** The user's private conversations (`dms`), most recent first. */
  | { type: 'conversations'; conversations: ConversationSummary[] }
  /** A page of one conversation (`history`), asked for by clicking it. */
  | { type: 'history'; result: HistoryResult }
  /** The page of a conversation before what its block shows ("Earlier messages with NAME"). */
  | { type: 'dm-earlier'; peer: string; result: HistoryResult }
  /** A page of the current room before what the log shows (scrolled to the top). */
  | { type: 'earlier'; result: RoomHistoryResult };

export interface SessionOptions {
  /** The gateway (or balancer) to talk to: the page's own origin. */
  url: string;
  name?: string;
  token?: string;
  room?: string;
}
