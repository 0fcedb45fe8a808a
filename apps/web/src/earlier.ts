import {
  EarlierPages,
  type Ack,
  type ChatError,
  type ChatMessage,
  type HistoryResult,
  type RoomHistoryRequest,
  type RoomHistoryResult,
} from '@chat/protocol';

type Ask = (
  request: RoomHistoryRequest,
  then: (ack: Ack<HistoryResult | RoomHistoryResult>) => void,
) => void;

/**
 * "Earlier messages" of the current room (`history { room }`), one page at a time: asked for
 * when the log is scrolled to its top or the button is pressed. One request at a time; a room
 * whose start was reached is not asked again.
 */
export class EarlierLoader {
  private readonly pages = new EarlierPages();
  private asking = false;
  private readonly ended = new Set<string>();

  constructor(
    private readonly ask: Ask,
    private readonly show: (result: RoomHistoryResult) => void,
    private readonly failed: (error: ChatError) => void,
  ) {}

  /** A message shown in the log: pages go on before the earliest. */
  seen(message: ChatMessage): void {
    this.pages.seen(message.room, message.seq, undefined);
  }

  load(room: string): void {
    if (this.asking || this.ended.has(room)) return;
    this.asking = true;
    this.ask(this.pages.request(room), (ack) => {
      this.asking = false;
      if (!ack.ok) return this.failed(ack.error);
      if (!('room' in ack)) return;
      this.pages.paged(ack);
      if (!ack.more) this.ended.add(ack.room);
      this.show(ack);
    });
  }
}
