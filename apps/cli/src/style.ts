/**
 * Colours for terminal mode. Rendering calls these on already-sanitised text; with colours off
 * every function is the identity, so pipe output is exactly the plain text of each line.
 */
export interface Style {
  /** A user's name; `id` picks a stable colour per user. */
  name(text: string, id: number): string;
  /** Notices: joins, leaves, command results, help. */
  notice(text: string): string;
  /** Errors on stderr. */
  error(text: string): string;
}

export const plainStyle: Style = {
  name: (text) => text,
  notice: (text) => text,
  error: (text) => text,
};

const RESET_COLOUR = '\x1b[39m';
const NAME_COLOURS = ['\x1b[32m', '\x1b[33m', '\x1b[34m', '\x1b[35m', '\x1b[36m', '\x1b[92m'];

export const colourStyle: Style = {
  name: (text, id) =>
    `${NAME_COLOURS[Math.abs(id) % NAME_COLOURS.length] ?? ''}${text}${RESET_COLOUR}`,
  notice: (text) => `\x1b[2m${text}\x1b[22m`,
  error: (text) => `\x1b[31m${text}${RESET_COLOUR}`,
};

/**
 * Colours only when a person is looking: stdout is a terminal and `NO_COLOR` is not set to
 * anything (https://no-color.org; here even an empty value counts as set).
 */
export function chooseStyle(env: NodeJS.ProcessEnv, stdoutIsTty: boolean): Style {
  return stdoutIsTty && env.NO_COLOR === undefined ? colourStyle : plainStyle;
}
