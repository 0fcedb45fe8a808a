import * as readline from 'node:readline';
import type { Line } from './render';

/**
 * The one place the CLI writes to the user (lint forbids `console`). Every line goes out whole,
 * newline included, in a single write, so events never interleave mid-line.
 */
export interface Output {
  write(line: Line): void;
  /** Resolves once everything written so far has been handed to the OS. */
  flush(): Promise<void>;
}

export interface Streams {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** Hooks run around each line, e.g. to take a prompt down and put it back. */
export interface Around {
  before(): void;
  after(): void;
}

export function createOutput(streams: Streams, around?: Around): Output {
  return {
    write(line) {
      around?.before();
      (line.stream === 'out' ? streams.stdout : streams.stderr).write(`${line.text}\n`);
      around?.after();
    },
    flush() {
      const drained = (stream: NodeJS.WritableStream): Promise<void> =>
        new Promise((resolve) => stream.write('', () => resolve()));
      return Promise.all([drained(streams.stdout), drained(streams.stderr)]).then(() => undefined);
    },
  };
}

/**
 * Keeps a readline prompt intact while lines arrive: before a line, erase the prompt and the
 * partial input (every row it wraps over, from where the cursor really is); after it, redraw
 * both with the cursor where it was. Stops touching the screen once readline has closed.
 */
export function promptKeeper(rl: readline.Interface, stdout: NodeJS.WritableStream): Around {
  let closed = false;
  rl.once('close', () => (closed = true));
  return {
    before() {
      if (closed) return;
      readline.moveCursor(stdout, 0, -rl.getCursorPos().rows);
      readline.cursorTo(stdout, 0);
      readline.clearScreenDown(stdout);
    },
    after() {
      if (closed) return;
      // `rl.prompt(true)` starts its redraw by moving up as many rows as the cursor was below
      // the prompt at the previous redraw. Padding with that many empty rows makes the move
      // land below the line just printed instead of on it.
      stdout.write('\n'.repeat(rowsReadlineWillClimb(rl)));
      rl.prompt(true);
    },
  };
}

/**
 * readline's own record of the rows its next redraw climbs (`prevRows`, untyped but present
 * in every Node version this project supports). It can lag the cursor: text pasted or typed
 * in one burst wraps without a redraw. Falls back to the cursor's row.
 */
function rowsReadlineWillClimb(rl: readline.Interface): number {
  return 'prevRows' in rl && typeof rl.prevRows === 'number' ? rl.prevRows : rl.getCursorPos().rows;
}
