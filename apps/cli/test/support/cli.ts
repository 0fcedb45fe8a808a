import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { vi } from 'vitest';

/** The workspace root: the CLI runs from there, as `npm run chat` does. */
export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

export interface CliProcess {
  /** Complete stdout lines so far. */
  readonly stdout: string[];
  /** Complete stderr lines so far. */
  readonly stderr: string[];
  /** Raw stdout bytes, to check exactly what reached the terminal. */
  readonly stdoutBytes: () => Buffer;
  write(line: string): void;
  /** Closes stdin: end of input for pipe mode. */
  end(): void;
  /** Waits until stdout has a line matching `match`, and returns it. */
  waitForLine(match: string | RegExp, timeout?: number): Promise<string>;
  readonly exited: Promise<number | null>;
  kill(): void;
}

/**
 * Runs the real CLI in pipe mode (stdin is a pipe) from source with tsx, exactly as
 * `npm run chat` does (tsx takes the `@chat/protocol` alias from the root tsconfig.json).
 */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/cli/src/main.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const chunks: Buffer[] = [];
  const splitter = (into: string[]) => {
    let partial = '';
    return (chunk: Buffer): void => {
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      into.push(...parts);
    };
  };
  const onOut = splitter(stdout);
  child.stdout.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    onOut(chunk);
  });
  child.stderr.on('data', splitter(stderr));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return {
    stdout,
    stderr,
    stdoutBytes: () => Buffer.concat(chunks),
    write: (line) => child.stdin.write(`${line}\n`),
    end: () => child.stdin.end(),
    waitForLine: (match, timeout = 10_000) =>
      vi.waitFor(
        () => {
          const line = stdout.find((l) =>
            typeof match === 'string' ? l === match : match.test(l),
          );
          if (line === undefined) {
            throw new Error(
              `no line ${String(match)} in stdout ${JSON.stringify(stdout)}; stderr ${JSON.stringify(stderr)}`,
            );
          }
          return line;
        },
        { timeout, interval: 20 },
      ),
    exited,
    kill: () => child.kill('SIGKILL'),
  };
}
