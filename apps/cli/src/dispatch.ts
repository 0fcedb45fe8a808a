import type { ChatClient } from './client';
import type { Command } from './commands';
import type { Output } from './output';
import { renderError } from './render';
import { renderHelp, renderHint, renderJoined, renderRooms, renderWho } from './replies';
import type { Outcome } from './requests';
import type { Style } from './style';

/** What a mode needs to carry out commands. */
export interface Session {
  client: ChatClient;
  output: Output;
  style: Style;
}

/**
 * The result of handing one command to the client: either the user wants to leave, or the
 * command is under way and `done` resolves with whether it succeeded (errors are already shown
 * by then). Requests are queued at once, so commands take effect in the order they were given.
 */
export type Dispatched = { quit: true } | { quit: false; done: Promise<boolean> };

const now = (ok: boolean): Dispatched => ({ quit: false, done: Promise.resolve(ok) });

export function dispatch(command: Command, session: Session): Dispatched {
  const { client, output, style } = session;
  const settle = <T>(outcome: Promise<Outcome<T>>, onOk?: (value: T) => void): Dispatched => ({
    quit: false,
    done: outcome.then((result) => {
      if (!result.ok) output.write(renderError(result.error, style));
      else onOk?.(result.value);
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
    case 'say':
      return settle(client.send(command.text));
    case 'msg':
      return settle(client.dm(command.to, command.text));
    case 'join':
      return settle(client.join(command.room), (result) =>
        output.write(renderJoined(result, style)),
      );
    case 'rooms':
      return settle(client.rooms(), (result) =>
        renderRooms(result, style).forEach((line) => output.write(line)),
      );
    case 'who':
      return settle(client.who(), (result) => output.write(renderWho(result, client.user, style)));
  }
}
