import {
  dmHasEarlier,
  dmPageNotice,
  nameKey,
  sanitize,
  type ChatMessage,
  type DirectMessage,
  type HistoryResult,
  type RoomHistoryResult,
  type UserRef,
} from '@chat/protocol';
import { el, type Child } from './dom';

/**
 * The conversation, an element with role `log`. Each message shows its sender's name and its
 * text; notices read `<name> joined`, `<name> left (<reason>)`. Everything from the network is
 * inserted as text after `sanitize`, which makes bidi overrides and invisible characters
 * visible escapes (`\u202e`), exactly as the CLI shows them.
 */
export class Conversation {
  readonly element = el('ol', { role: 'log', 'aria-label': 'Conversation', tabindex: '0' });
  /** Lines typed here and not acked yet, by cid. */
  private readonly pending = new Map<string, HTMLLIElement>();
  /** Whether the "earlier messages" divider of the current join was shown. */
  private inHistory = false;
  /** Each conversation's latest block (by the peer's name key): its earlier pages go under this line. */
  private readonly dmBlocks = new Map<string, HTMLLIElement>();

  message(message: ChatMessage): void {
    if (message.history === true && !this.inHistory) {
      this.inHistory = true;
      this.divider('earlier messages');
    }
    const item = this.line(message.history === true ? 'history' : 'message', [
      el('span', { class: 'from' }, sanitize(message.from.name)),
      ': ',
      el('span', { class: 'text' }, sanitize(message.text)),
    ]);
    if (message.history === true) item.append(el('span', { class: 'pending' }, ' (earlier)'));
  }

  /**
   * A page of the room from before everything shown, put on top (the view stays where it was):
   * each line as history reads, marked `(earlier)`; at the room's start a notice says so.
   */
  earlier(result: RoomHistoryResult): void {
    const items = result.messages.map((message) => {
      const item = el(
        'li',
        { class: 'history' },
        el('span', { class: 'from' }, sanitize(message.from.name)),
        ': ',
        el('span', { class: 'text' }, sanitize(message.text)),
      );
      item.append(el('span', { class: 'pending' }, ' (earlier)'));
      return item;
    });
    if (!result.more) {
      items.unshift(
        el('li', { class: 'notice' }, `No earlier messages in #${sanitize(result.room)}`),
      );
    }
    const below = this.element.scrollHeight - this.element.scrollTop;
    this.element.prepend(...items);
    this.element.scrollTop = this.element.scrollHeight - below;
  }

  /** The room's history (if any) is over: what follows is live. */
  synced(room: string, replayed: number): void {
    if (this.inHistory && replayed > 0) this.divider(`now in #${sanitize(room)}`);
    this.inHistory = false;
  }

  dm(direction: 'from' | 'to', peer: UserRef | string, text: string, cid?: string): void {
    const who = typeof peer === 'string' ? peer : peer.name;
    const item = this.line('dm', [
      el('span', { class: 'from' }, `[DM ${direction} ${sanitize(who)}]`),
      ' ',
      el('span', { class: 'text' }, sanitize(text)),
    ]);
    if (cid !== undefined) this.markPending(cid, item);
  }

  /**
   * A page of a private conversation (clicking it in `Conversations`), between dividers: each
   * line as a live DM reads, `[DM from bob] text` or `[DM to bob] text`, marked `(earlier)`;
   * first a note if the cluster no longer keeps some or has more in its archive (as the CLI's
   * `/history`).
   */
  dmHistory(
    result: HistoryResult,
    myId: number | undefined,
    earlier: (peer: string) => void,
  ): void {
    const peer = sanitize(result.with.name);
    const notice = dmPageNotice(result, peer);
    if (notice !== undefined) this.notice(notice);
    if (result.messages.length === 0) {
      this.notice(`No messages with ${peer}`);
      return;
    }
    this.divider(`earlier messages with ${peer}`);
    if (dmHasEarlier(result)) {
      // Pages of the conversation before this one go in under this button, one per press.
      const button = el(
        'button',
        { type: 'button', class: 'earlier' },
        `Earlier messages with ${peer}`,
      );
      button.addEventListener('click', () => earlier(result.with.name));
      this.dmBlocks.set(nameKey(result.with.name), this.line('dm-earlier', [button]));
    }
    for (const message of result.messages) this.add(dmItem(message, peer, myId));
    this.divider(`end of earlier messages with ${peer}`);
  }

  /**
   * A page of a conversation from before its block's earliest line, put in on top of it (the
   * view stays where it was); at the conversation's start the button gives way to a notice.
   */
  dmEarlier(result: HistoryResult, myId: number | undefined): void {
    const key = nameKey(result.with.name);
    const anchor = this.dmBlocks.get(key);
    if (anchor === undefined) return;
    const peer = sanitize(result.with.name);
    const below = this.element.scrollHeight - this.element.scrollTop;
    anchor.after(...result.messages.map((message) => dmItem(message, peer, myId)));
    if (!dmHasEarlier(result)) {
      anchor.replaceWith(el('li', { class: 'notice' }, `No earlier messages with ${peer}`));
      this.dmBlocks.delete(key);
    }
    this.element.scrollTop = this.element.scrollHeight - below;
  }

  /** Our own room message, shown at once and marked "sending" until `acked`. */
  own(name: string, text: string, cid: string): void {
    const item = this.line('message own', [
      el('span', { class: 'from' }, sanitize(name)),
      ': ',
      el('span', { class: 'text' }, sanitize(text)),
    ]);
    this.markPending(cid, item);
  }

  acked(cid: string): void {
    this.pending.get(cid)?.querySelector('.pending')?.remove();
    this.pending.delete(cid);
  }

  /** A typed line the cluster refused for good: the line stays, with the error under it. */
  refused(cid: string, errorText: string): void {
    const item = this.pending.get(cid);
    this.pending.delete(cid);
    const mark = item?.querySelector('.pending');
    if (mark !== undefined && mark !== null) {
      mark.textContent = ` ${errorText}`;
      mark.className = 'error';
    } else {
      this.error(errorText);
    }
  }

  notice(text: string): void {
    this.line('notice', [text]);
  }

  error(text: string): void {
    this.line('error', [text]);
  }

  private divider(text: string): void {
    this.line('divider', [`— ${text} —`]);
  }

  private markPending(cid: string, item: HTMLLIElement): void {
    item.append(el('span', { class: 'pending' }, ' (sending…)'));
    this.pending.set(cid, item);
  }

  private line(kind: string, children: Child[]): HTMLLIElement {
    return this.add(el('li', { class: kind }, ...children));
  }

  /** Appends `item`, keeping the view at the bottom if it was there. */
  private add(item: HTMLLIElement): HTMLLIElement {
    const stick =
      this.element.scrollTop + this.element.clientHeight >= this.element.scrollHeight - 8;
    this.element.append(item);
    if (stick) this.element.scrollTop = this.element.scrollHeight;
    return item;
  }
}

/** One line of a conversation's page, as a live DM reads, marked `(earlier)`. */
function dmItem(message: DirectMessage, peer: string, myId: number | undefined): HTMLLIElement {
  const mine = message.from.id === myId;
  return el(
    'li',
    { class: 'dm history' },
    el('span', { class: 'from' }, `[DM ${mine ? 'to' : 'from'} ${peer}]`),
    ' ',
    el('span', { class: 'text' }, sanitize(message.text)),
    el('span', { class: 'pending' }, ' (earlier)'),
  );
}
