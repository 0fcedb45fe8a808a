import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/**
 * The real terminal client (`npm run chat -- --url ... --name ...`) in pipe mode, kept running
 * with stdin open: each `say` is one input line (a send), and every event it prints is kept as
 * one stdout line, exactly as a user's script would see them.
 */
export class CliChatter {
  readonly lines: string[] = [];
  readonly errors: string[] = [];
  private readonly child: ChildProcessWithoutNullStreams;
  private exitCode: number | null | undefined;

  constructor(
    url: string,
    readonly name: string,
  ) {
    this.child = spawn(
      process.execPath,
      ['--import', 'tsx', 'apps/cli/src/main.ts', '--url', url, '--name', name],
      { cwd: ROOT, stdio: 'pipe' },
    );
    collect(this.child.stdout, this.lines);
    collect(this.child.stderr, this.errors);
    this.child.on('exit', (code) => (this.exitCode = code));
  }

  /** The node ids of its welcome lines: `You joined as <name> (id <id>, node <node>)`. */
  nodes(): string[] {
    return this.lines.flatMap((line) => {
      const match = /^(?:You joined|Reconnected) as .* \(id \d+, node ([^)]+)\)$/.exec(line);
      return match?.[1] === undefined ? [] : [match[1]];
    });
  }

  /** Lines showing a room message from `from`: `[<from>] <text>`. */
  said(from: string): string[] {
    const prefix = `[${from}] `;
    return this.lines.filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length));
  }

  say(text: string): void {
    this.child.stdin.write(`${text}\n`);
  }

  /** Output so far, for assertion messages. */
  transcript(): string {
    const exit = this.exitCode === undefined ? '' : `\n(exited with ${this.exitCode})`;
    return [...this.lines, ...this.errors.map((l) => `stderr: ${l}`)].join('\n') + exit;
  }

  /** Ends input (the client leaves once its sends are acked), then makes sure it is gone. */
  async close(): Promise<void> {
    if (this.exitCode !== undefined) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

function collect(stream: NodeJS.ReadableStream, into: string[]): void {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    into.push(...lines);
  });
}
