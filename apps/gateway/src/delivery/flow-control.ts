import { bufferedBytes } from '../sessions/slow-consumers';
import type { ChatSocket } from '../sessions/socket';

/** How often a waiting sender looks at the buffer again when no `drain` event comes. @default 20 */
const POLL_MS = 20;

/**
 * Resolves once at most `belowBytes` wait to reach the client, or the client is gone. History
 * goes out a page at a time behind this, so a reader's buffer holds about one page, however
 * much it asked for, and a client that reads slowly pulls slowly instead of filling memory.
 */
export async function drained(socket: ChatSocket, belowBytes: number): Promise<void> {
  while (socket.connected && bufferedBytes(socket) > belowBytes) {
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        socket.conn.off('drain', done);
        socket.off('disconnect', done);
        resolve();
      };
      const timer = setTimeout(done, POLL_MS);
      timer.unref();
      socket.conn.once('drain', done);
      socket.once('disconnect', done);
    });
  }
}
