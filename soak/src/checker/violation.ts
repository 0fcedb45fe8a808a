/** Every kind of violation the checker names, each a broken promise of README's guarantees. */
export const VIOLATION_KINDS = {
  'position-conflict': 'two different messages at one position (room, epoch, seq)',
  'stored-twice': 'one send stored or delivered at two positions',
  duplicate: 'a client received the same message twice',
  reorder: "a client's view of a room went backwards",
  phantom: 'delivered something nobody sent (or to a room it was not sent to)',
  'self-echo': 'a client received its own message',
  'sender-order': "a sender's messages were stored out of the order it sent them",
  missed: 'a member moved past an acked message without it and without being told it was lost',
  'dm-misdelivered': "a DM reached a session that is not its recipient's",
  'dm-duplicate': 'a client received the same DM twice',
  'name-twice': 'two online users held one name at the same instant',
  'bad-left': '`left` for a user who did not quit, move, drop or lose its node',
  'no-convergence': 'after the faults stopped, a client did not see the tail within the bound',
} as const;

export type ViolationKind = keyof typeof VIOLATION_KINDS;

export interface Violation {
  kind: ViolationKind;
  message: string;
  /** Index of the history entry where it shows. */
  at: number;
  /** Clients involved: the context printed around the violation is theirs. */
  clients: string[];
}
