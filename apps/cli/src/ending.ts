import { sanitize } from '@chat/protocol';
import type { ClientEnd } from './client';
import { renderError, type Line } from './render';
import type { Style } from './style';

/**
 * Exit statuses, the CLI's contract with scripts:
 * 0 left normally; 1 a piped line was refused or no gateway could be reached;
 * 2 bad arguments, or a gateway refused the connection for good (NAME_TAKEN, UNAUTHORIZED, ...);
 * 70 a bug in the CLI itself (EX_SOFTWARE); 128 + n after signal n.
 */
export const EXIT = { ok: 0, failed: 1, refused: 2, internal: 70 } as const;

export function exitCodeFor(end: ClientEnd): number {
  switch (end.kind) {
    case 'quit':
      return EXIT.ok;
    case 'unreachable':
      return EXIT.failed;
    case 'rejected':
      return EXIT.refused;
  }
}

/** What to tell the user about how the session ended, if anything. */
export function renderEnd(end: ClientEnd, style: Style): Line | undefined {
  switch (end.kind) {
    case 'quit':
      return undefined;
    case 'unreachable':
      return { stream: 'err', text: style.error(`error: ${sanitize(end.message)}`) };
    case 'rejected':
      return renderError(end.error, style);
  }
}
