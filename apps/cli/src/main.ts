import { parseArgs } from './args';
import { EXIT } from './ending';
import { createOutput } from './output';
import { runPipe } from './pipe';
import { runTerminal } from './terminal';

/** Where argument errors, help and internal failures go; the modes make their own. */
const output = createOutput(process);

/**
 * Entry point: `chat --url URL [--url URL...] [--name NAME] [--room ROOM] [--token JWT]`.
 * Interactive when stdin is a terminal, pipe mode otherwise. Exit statuses are listed in
 * ending.ts; SIGINT, SIGTERM or SIGHUP leave cleanly and exit with 128 + the signal number.
 */
async function main(): Promise<number> {
  const parsed = parseArgs(process.argv.slice(2));
  if (parsed.kind === 'exit') {
    writeText('out', parsed.stdout);
    writeText('err', parsed.stderr);
    return parsed.code;
  }

  const interrupt = new AbortController();
  let signalled: number | undefined;
  const onSignal = (code: number) => () => {
    signalled = code;
    interrupt.abort();
  };
  process.once('SIGINT', onSignal(130));
  process.once('SIGTERM', onSignal(143));
  process.once('SIGHUP', onSignal(129)); // the terminal went away

  const io = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
  const code = process.stdin.isTTY
    ? await runTerminal(parsed.settings, { ...io, env: process.env }, interrupt.signal)
    : await runPipe(parsed.settings, io, interrupt.signal);
  return signalled ?? code;
}

function writeText(stream: 'out' | 'err', text: string): void {
  if (text !== '') output.write({ stream, text: text.replace(/\n$/, '') });
}

// Exit explicitly once output is flushed: stdin may still be open (pipe mode stops reading at
// `/quit`), and nothing else should keep a finished client alive.
main().then(
  async (code) => {
    await output.flush();
    process.exit(code);
  },
  async (err: unknown) => {
    output.write({
      stream: 'err',
      text: `error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    });
    await output.flush();
    process.exit(EXIT.internal);
  },
);
