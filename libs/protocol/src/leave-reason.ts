import type { LeftNotice } from './events';

/**
 * How every client words a `left` notice: `<name> left`, then the reason in brackets unless the
 * user simply quit. These strings are a user-facing contract shared by the CLI and the web page:
 * `bob left (moved to #dev)`, `bob left (lost connection)`, `bob left (node failure)`.
 * `name` must already be made safe to show (see `sanitize`); the destination room of a move is
 * named when the notice carries it (`to`), else the move reads `(moved to another room)`.
 */
export function leftText(name: string, notice: Pick<LeftNotice, 'reason' | 'to'>): string {
  const why = leaveReason(notice);
  return why === undefined ? `${name} left` : `${name} left (${why})`;
}

function leaveReason({ reason, to }: Pick<LeftNotice, 'reason' | 'to'>): string | undefined {
  switch (reason) {
    case 'quit':
      return undefined;
    case 'moved':
      return to === undefined ? 'moved to another room' : `moved to #${to}`;
    case 'disconnected':
      return 'lost connection';
    case 'node-failure':
      return 'node failure';
  }
}
