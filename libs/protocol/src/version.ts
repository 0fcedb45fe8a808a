/**
 * Version of the wire protocol described in libs/protocol/README.md. A client sends it in the
 * handshake (`auth.v`); a gateway refuses a version it does not speak with `VERSION_MISMATCH`.
 * Additive changes (new optional fields, new events) keep the number; anything else bumps it.
 */
export const PROTOCOL_VERSION = 1;
