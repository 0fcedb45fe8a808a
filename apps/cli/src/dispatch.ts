import type { ChatClient } from './client';
import type { Command } from './commands';
import type { Output } from './output';
import { renderError } from './render';
import {
  renderDmSent,
  renderDms,
  renderEarlier,
  renderEarlierDms,
  renderFound,
  renderHistory,
  renderHelp,
  renderHint,
  renderJoined,
  renderNotSure,
  renderRooms,
  renderSentAfterWait,
  renderWaiting,
  renderWho,
} from './replies';
import type { Outcome } from './requests';
import type { Style } from './style';

/** What a mode needs to carry out commands. */
export interface Session {
  client: ChatClient;
  output: Output;
  style: Style;
  /**
   * Terminal mode: a line that cannot go out at once (offline, or unanswered for
   * `WAITING_AFTER_MS`) is shown as waiting, and as sent once it is. @default false
   */
  showWaiting?: boolean;
}

/** How long a line may go unacknowledged before it is shown as waiting. */
export const WAITING_AFTER_MS = 1_000;

/**
 * The result of handing one command to the client: either the user wants to leave, or the
 * command is under way and `done` resolves with whether it succeeded (errors are already shown
 * by then). Requests are queued at once, so commands take effect in the order they were given.
 */
export type Dispatched = { quit: true } | { quit: false; done: Promise<boolean> };

const now = (ok: boolean): Dispatched => ({ quit: false, done: Promise.resolve(ok) });

export function dispatch(command: Command, session: Session): Dispatched {
  const { client, output, style } = session;
  const settle = <T>(
    outcome: Promise<Outcome<T>>,
    onOk?: (value: T) => void,
    text?: string,
  ): Dispatched => ({
    quit: false,
    done: outcome.then((result) => {
      if (result.ok) onOk?.(result.value);
      else if (text !== undefined && result.error.code === 'RECORDS_LOST') {
        output.write(renderNotSure(text, style));
      } else output.write(renderError(result.error, style));
      return result.ok;
    }),
  });

  switch (command.kind) {
    case 'blank':
      return now(true);
    case 'quit':
      return { quit: true };
    case 'help':
      renderHelp(style).forEach((line) => output.write(line));
      return now(true);
    case 'invalid':
      output.write(renderHint(command.hint, style));
      return now(false);
    case 'refused':
      output.write(renderError(command.error, style));
      return now(false);
    case 'say':
      return settle(
        watch(client.send(command.text), command.text, session),
        undefined,
        command.text,
      );
    case 'msg':
      return settle(
        watch(client.dm(command.to, command.text), command.text, session),
        (result) => output.write(renderDmSent(result, command.text, style)),
        command.text,
      );
    case 'join':
      return settle(client.join(command.room), (result) =>
        output.write(renderJoined(result, style)),
      );
    case 'rooms':
      return settle(client.rooms(), (result) =>
        renderRooms(result, style).forEach((line) => output.write(line)),
      );
    case 'dms':
      return settle(client.dms(), (result) =>
        renderDms(result, style).forEach((line) => output.write(line)),
      );
    case 'history':
      return settle(client.history(command.with), (result) =>
        renderHistory(result, client.user, style).forEach((line) => output.write(line)),
      );
    case 'more':
      if (command.with !== undefined) {
        return settle(client.moreWith(command.with), (result) =>
          renderEarlierDms(result, client.user, style).forEach((line) => output.write(line)),
        );
      }
      return settle(client.more(), (result) =>
        renderEarlier(result, style).forEach((line) => output.write(line)),
      );
    case 'search':
      return settle(client.search(command.q), (result) =>
        renderFound(result, command.q, style).forEach((line) => output.write(line)),
      );
    case 'who':
      return settle(client.who(), (result) => output.write(renderWho(result, client.user, style)));
  }
}

/**
 * With `showWaiting`, shows `text` as waiting while `outcome` is pending (at once when offline,
 * otherwise after WAITING_AFTER_MS), and as sent when it then goes through.
 */
function watch<T>(
  outcome: Promise<Outcome<T>>,
  text: string,
  session: Session,
): Promise<Outcome<T>> {
  if (session.showWaiting !== true) return outcome;
  const { output, style } = session;
  let shown = false;
  const show = () => {
    shown = true;
    output.write(renderWaiting(text, style));
  };
  const timer = session.client.online ? setTimeout(show, WAITING_AFTER_MS) : undefined;
  if (timer === undefined) show();
  return outcome.then((result) => {
    clearTimeout(timer);
    if (shown && result.ok) output.write(renderSentAfterWait(text, style));
    return result;
  });
}
