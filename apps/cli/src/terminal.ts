import * as readline from 'node:readline';
import type { Settings } from './args';
import { sleep } from './backoff';
import { ChatClient } from './client';
import { parseLine } from './commands';
import { dispatch } from './dispatch';
import { exitCodeFor, renderEnd } from './ending';
import { createOutput, promptKeeper, type Streams } from './output';
import { renderEvent } from './render';
import { renderGoodbye } from './replies';
import { chooseStyle } from './style';

export interface TerminalIo extends Streams {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}

/** How long leaving waits for requests still in the outbox. @default 2_000 */
const LEAVE_GRACE_MS = 2_000;

/**
 * Interactive mode: a readline prompt (`#room> `) that stays intact while lines arrive,
 * colours when stdout is a terminal and NO_COLOR is unset, and slash commands. `/quit`,
 * `exit`, Ctrl-C and Ctrl-D all leave cleanly, after giving queued messages a moment to go out,
 * and say goodbye. Unlike pipe mode, history is marked `(earlier)` and lines that cannot go
 * out at once are shown as waiting.
 */
export async function runTerminal(
  settings: Settings,
  io: TerminalIo,
  interrupt: AbortSignal,
): Promise<number> {
  const style = chooseStyle(io.env, io.stdout.isTTY === true);
  // With stdout redirected there is no screen to keep a prompt on: plain lines only, and the
  // terminal's own echo shows what is typed.
  const screen = io.stdout.isTTY === true;
  const rl = readline.createInterface({
    input: io.stdin,
    output: screen ? io.stdout : undefined,
    terminal: screen,
  });
  const promptFor = (): string => `#${client.room}> `;
  const keeper = screen ? promptKeeper(rl, io.stdout) : undefined;
  const output = createOutput(io, {
    before: () => keeper?.before(),
    after: () => {
      rl.setPrompt(promptFor());
      keeper?.after();
    },
  });
  const client = new ChatClient({
    ...settings,
    onEvent: (event) => {
      const line = renderEvent(event, style, { markHistory: true });
      if (line !== undefined) output.write(line);
    },
  });
  const ended = client.run();

  let leaving = false;
  const leave = (): void => {
    if (leaving) return;
    leaving = true;
    void Promise.race([client.idle(), sleep(LEAVE_GRACE_MS)]).then(() => client.quit());
  };
  interrupt.addEventListener('abort', leave, { once: true });
  // Ctrl-C on the prompt ends like Ctrl-D; either way the shell gets a fresh line.
  rl.on('SIGINT', () => rl.close());
  rl.on('close', () => {
    if (!leaving && screen) output.write({ stream: 'out', text: '' });
    leave();
  });
  rl.on('line', (line) => {
    if (leaving) return;
    const dispatched = dispatch(parseLine(line), { client, output, style, showWaiting: true });
    if (dispatched.quit) leave();
    else rl.prompt();
  });
  rl.setPrompt(promptFor());
  void client.ready.then(() => rl.prompt());

  const end = await ended;
  leaving = true;
  keeper?.before(); // take the prompt down for good before the last lines
  rl.close();
  const line = end.kind === 'quit' ? renderGoodbye(style) : renderEnd(end, style);
  if (line !== undefined) output.write(line);
  return exitCodeFor(end);
}
