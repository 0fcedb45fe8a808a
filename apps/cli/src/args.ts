import { validateName, validateRoom } from '@chat/protocol';
import { Command, CommanderError, Option } from 'commander';

/** What the command line asks for, validated. */
export interface Settings {
  urls: string[];
  name?: string;
  token?: string;
  room?: string;
}

/**
 * Either settings to run with, or text to print and an exit code: 0 for `--help`, 2 for a
 * usage error. Parsing never writes or exits by itself, so it can be tested directly.
 */
export type Parsed =
  | { kind: 'run'; settings: Settings }
  | { kind: 'exit'; code: number; stdout: string; stderr: string };

const URL_PROTOCOLS = new Set(['http:', 'https:', 'ws:', 'wss:']);

/** Where `npm start` runs the chat: the gateway used when no `--url` is given. */
export const DEFAULT_URL = 'http://localhost:3000';

/** Each problem is reported in the `error: ...` form the rest of the CLI uses. */
class UsageError extends Error {}

function parseUrl(value: string, previous: string[] | undefined): string[] {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(
      `--url ${JSON.stringify(value)} is not a URL (e.g. http://localhost:3000)`,
    );
  }
  if (!URL_PROTOCOLS.has(url.protocol)) {
    throw new UsageError(`--url ${JSON.stringify(value)} must use http, https, ws or wss`);
  }
  return [...(previous ?? []), value];
}

function program(): Command {
  return new Command('chat')
    .description('Terminal client for the chat cluster. Reads stdin line by line when piped.')
    .addOption(
      // No commander default: its default would become the first of the repeated --url values.
      new Option(
        '--url <url>',
        `gateway to connect to; repeat for fail-over, tried in order (default: ${DEFAULT_URL})`,
      ).argParser(parseUrl),
    )
    .option('--name <name>', 'display name (default: one assigned by the gateway)')
    .option('--room <room>', 'room to join first (default: lobby)')
    .addOption(
      new Option('--token <jwt>', 'JWT for a cluster that requires authentication').env(
        'CHAT_TOKEN',
      ),
    )
    .addHelpText(
      'after',
      '\nIn a terminal, type /help for commands. Piped: each stdin line is sent in order,\n' +
        'each event prints as one line, and the client exits once every line is acked\n' +
        '(status 0; 1 if a line was refused or no gateway answers; 2 if refused at connect).',
    )
    .helpOption('-h, --help', 'show this help')
    .exitOverride()
    .allowExcessArguments(false);
}

export function parseArgs(argv: readonly string[]): Parsed {
  let stdout = '';
  let stderr = '';
  const cmd = program().configureOutput({
    writeOut: (text) => (stdout += text),
    writeErr: (text) => (stderr += text),
    outputError: (text, write) => write(text),
  });
  try {
    cmd.parse([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      const code = err.exitCode === 0 ? 0 : 2;
      return { kind: 'exit', code, stdout, stderr };
    }
    if (err instanceof UsageError) return usage(err.message);
    throw err;
  }
  const opts = cmd.opts<{ url?: string[]; name?: string; room?: string; token?: string }>();
  const settings: Settings = { urls: opts.url ?? [DEFAULT_URL] };
  if (opts.name !== undefined) {
    const name = validateName(opts.name);
    if (!name.ok) return usage(`--name: ${name.error.message}`);
    settings.name = name.value;
  }
  if (opts.room !== undefined) {
    const room = validateRoom(opts.room);
    if (!room.ok) return usage(`--room: ${room.error.message}`);
    settings.room = room.value;
  }
  if (opts.token !== undefined && opts.token !== '') settings.token = opts.token;
  return { kind: 'run', settings };
}

function usage(message: string): Parsed {
  return { kind: 'exit', code: 2, stdout: '', stderr: `error: ${message}\n` };
}
