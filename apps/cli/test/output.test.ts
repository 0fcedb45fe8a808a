import { PassThrough } from 'node:stream';
import * as readline from 'node:readline';
import { describe, expect, it } from 'vitest';
import { createOutput, promptKeeper } from '../src/output';

function sink(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { stream, text: () => text };
}

describe('createOutput', () => {
  it('writes each line whole, with its newline, to the stream it belongs to', async () => {
    const out = sink();
    const err = sink();
    const calls: string[] = [];
    const output = createOutput(
      { stdout: out.stream, stderr: err.stream },
      { before: () => calls.push('before'), after: () => calls.push('after') },
    );
    output.write({ stream: 'out', text: 'one' });
    output.write({ stream: 'err', text: 'oops' });
    output.write({ stream: 'out', text: 'two' });
    await output.flush();
    expect(out.text()).toBe('one\ntwo\n');
    expect(err.text()).toBe('oops\n');
    expect(calls).toEqual(['before', 'after', 'before', 'after', 'before', 'after']);
  });
});

describe('promptKeeper', () => {
  it('takes the prompt and the partial input down, then puts them back after the line', async () => {
    const input = new PassThrough();
    const screen = sink();
    Object.assign(screen.stream, { columns: 80, isTTY: true });
    const rl = readline.createInterface({ input, output: screen.stream, terminal: true });
    rl.setPrompt('#lobby> ');
    rl.prompt();
    input.write('half typed');
    await new Promise((resolve) => setImmediate(resolve));
    const before = screen.text().length;

    const output = createOutput(
      { stdout: screen.stream, stderr: screen.stream },
      promptKeeper(rl, screen.stream),
    );
    output.write({ stream: 'out', text: '[bob] hi' });
    await output.flush();
    const drawn = screen.text().slice(before);
    // eslint-disable-next-line no-control-regex -- reading terminal control sequences
    const visible = drawn.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
    expect(visible).toBe('[bob] hi\n#lobby> half typed');
    expect(rl.line).toBe('half typed');
    rl.close();
    // Once readline has closed, lines are written plainly.
    const closedAt = screen.text().length;
    output.write({ stream: 'out', text: 'after' });
    expect(screen.text().slice(closedAt)).toBe('after\n');
  });
});
