import type { ChatSocket } from './socket';

/**
 * The address a connection comes from: the first X-Forwarded-For entry when `trustProxy` (behind
 * a balancer that sets it), else the socket's peer address.
 */
export function clientAddress(socket: ChatSocket, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = socket.handshake.headers['x-forwarded-for'];
    const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
    if (first) return first;
  }
  return socket.handshake.address;
}
