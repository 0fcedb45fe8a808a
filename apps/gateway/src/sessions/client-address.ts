import type { IncomingHttpHeaders } from 'node:http';

/** What a client address is read from: a Socket.IO handshake (or anything shaped like one). */
export interface AddressSource {
  headers: IncomingHttpHeaders;
  /** The peer's address on the TCP connection. */
  address: string;
}

/**
 * The client's address, for per-address limits: the first X-Forwarded-For hop when the gateway
 * sits behind a trusted balancer (`trustProxy`), else the connection's peer. One definition, so
 * every per-address limit counts the same address.
 */
export function clientAddress(source: AddressSource, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = source.headers['x-forwarded-for'];
    const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
    if (first) return first;
  }
  return source.address;
}
