import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { Socket } from 'node:net';

/** How one bare Engine.IO websocket attempt ended. */
export type BareOutcome = { open: true; socket: Socket } | { open: false; status: number };

/**
 * Opens an Engine.IO websocket the way an attacker would: the HTTP upgrade and nothing after
 * it (no Socket.IO namespace CONNECT, no token), from `localAddress` (a loopback address).
 * Resolves when the server accepts (101) or refuses (any other status) the upgrade.
 */
export function openBareSocket(url: string, localAddress: string): Promise<BareOutcome> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/socket.io/?EIO=4&transport=websocket`, {
      localAddress,
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': randomBytes(16).toString('base64'),
      },
    });
    req.once('upgrade', (_res, socket) => {
      socket.on('error', () => undefined);
      resolve({ open: true, socket });
    });
    req.once('response', (res) => {
      res.resume();
      resolve({ open: false, status: res.statusCode ?? 0 });
    });
    req.once('error', reject);
    req.end();
  });
}

/** Opens `count` bare sockets one after another; the caller destroys the open ones. */
export async function openBareSockets(
  url: string,
  count: number,
  localAddress: string,
): Promise<{ open: Socket[]; refused: number }> {
  const open: Socket[] = [];
  let refused = 0;
  for (let i = 0; i < count; i++) {
    const outcome = await openBareSocket(url, localAddress).catch((): BareOutcome => ({
      open: false,
      status: 0,
    }));
    if (outcome.open) open.push(outcome.socket);
    else refused++;
  }
  return { open, refused };
}
