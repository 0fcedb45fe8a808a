import * as readline from 'node:readline';
import type { Settings } from './args';
import { ChatClient } from './client';
import { parseLine } from './commands';
import { dispatch } from './dispatch';
import { EXIT, exitCodeFor, renderEnd } from './ending';
import { createOutput, type Streams } from './output';
import { renderEvent } from './render';
import { plainStyle } from './style';

export interface PipeIo extends Streams {
  stdin: NodeJS.ReadableStream;
}

/**
 * Pipe mode, for scripts: every stdin line is a command (plain text is a `send`), carried out
 * in input order; every event prints as one plain line on stdout, errors on stderr. At the end
 * of input (or `/quit`) it waits until every request has settled, leaves, and resolves with
 * the exit status: 0 if all went through, 1 if any line was refused. Output never has colours.
 */
export async function runPipe(
  settings: Settings,
  io: PipeIo,
  interrupt: AbortSignal,
): Promise<number> {
  const style = plainStyle;
  const output = createOutput(io);
  const client = new ChatClient({
    ...settings,
    onEvent: (event) => {
      const line = renderEvent(event, style);
      if (line !== undefined) output.write(line);
    },
  });
  const ended = client.run();
  interrupt.addEventListener('abort', () => client.quit(), { once: true });

  const results: Promise<boolean>[] = [];
  const input = readline.createInterface({ input: io.stdin, crlfDelay: Infinity });
  const reading = (async () => {
    for await (const line of input) {
      const dispatched = dispatch(parseLine(line), { client, output, style });
      if (dispatched.quit) break;
      results.push(dispatched.done);
    }
  })();

  // Leave only once connected at least once, so even empty input shows the welcome line.
  const settled = Promise.all([reading, client.ready]).then(() => Promise.all(results));
  const first = await Promise.race([
    ended.then((end) => ({ end })),
    settled.then((oks) => ({ oks })),
  ]);
  input.close();
  if ('end' in first) {
    const line = renderEnd(first.end, style);
    if (line !== undefined) output.write(line);
    return exitCodeFor(first.end);
  }
  client.quit();
  return first.oks.every(Boolean) ? EXIT.ok : EXIT.failed;
}
