/**
 * The harness's only output. Progress and results go to stdout (the RATIO line is always the
 * last stdout line of a run); problems go to stderr. Lint forbids `console`, so everything
 * printed passes through here.
 */
export function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

export function warn(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}
