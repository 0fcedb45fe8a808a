import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/**
 * A bare WebSocket client (RFC 6455) on a TCP socket, for the load generator: text frames in
 * and out, pings answered, nothing else. A read chunk is cut into frames in one loop, without
 * the stream machinery of a general-purpose client: on a 2-core machine the generator's cost
 * per received message decides how much is left for the systems under test.
 */
export interface WebSocketHandlers {
  /** A text message; `ws` is given because it may come before the open promise resolves. */
  text(data: string, ws: BareWebSocket): void;
  close(): void;
}

export interface BareWebSocket {
  send(text: string): void;
  pause(): void;
  resume(): void;
  close(): void;
  readonly closed: boolean;
}

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export function openWebSocket(
  url: URL,
  handlers: WebSocketHandlers,
  localAddress?: string,
): Promise<BareWebSocket> {
  const key = randomBytes(16).toString('base64');
  const accept = createHash('sha1')
    .update(key + GUID)
    .digest('base64');
  const socket: Socket = connect({
    host: url.hostname,
    port: Number(url.port),
    noDelay: true,
    ...(localAddress === undefined ? {} : { localAddress }),
  });
  const mask = randomBytes(4);
  let closed = false;
  let buffer: Buffer | undefined;
  let fragments: Buffer[] = [];

  const frame = (opcode: number, payload: Buffer): Buffer => {
    const length = payload.length;
    const headerLength = length < 126 ? 6 : length < 65_536 ? 8 : 14;
    const out = Buffer.allocUnsafe(headerLength + length);
    out[0] = 0x80 | opcode;
    if (length < 126) out[1] = 0x80 | length;
    else if (length < 65_536) {
      out[1] = 0x80 | 126;
      out.writeUInt16BE(length, 2);
    } else {
      out[1] = 0x80 | 127;
      out.writeBigUInt64BE(BigInt(length), 2);
    }
    mask.copy(out, headerLength - 4);
    for (let i = 0; i < length; i++) out[headerLength + i] = (payload[i] ?? 0) ^ (mask[i & 3] ?? 0);
    return out;
  };

  const ws: BareWebSocket = {
    send: (text) => void socket.write(frame(0x1, Buffer.from(text))),
    pause: () => void socket.pause(),
    resume: () => void socket.resume(),
    close() {
      if (closed) return;
      socket.end(frame(0x8, Buffer.alloc(0)));
    },
    get closed() {
      return closed;
    },
  };

  /** Cuts every complete frame out of `data`; keeps the rest for the next chunk. */
  const onData = (chunk: Buffer) => {
    let data = buffer ? Buffer.concat([buffer, chunk]) : chunk;
    buffer = undefined;
    let offset = 0;
    while (data.length - offset >= 2) {
      const b0 = data[offset] ?? 0;
      const b1 = data[offset + 1] ?? 0;
      let length = b1 & 0x7f;
      let start = offset + 2;
      if (length === 126) {
        if (data.length - offset < 4) break;
        length = data.readUInt16BE(offset + 2);
        start = offset + 4;
      } else if (length === 127) {
        if (data.length - offset < 10) break;
        length = Number(data.readBigUInt64BE(offset + 2));
        start = offset + 10;
      }
      // Servers never mask their frames.
      if (data.length < start + length) break;
      const opcode = b0 & 0x0f;
      const fin = (b0 & 0x80) !== 0;
      if (opcode === 0x1 && fin) handlers.text(data.toString('utf8', start, start + length), ws);
      else if (opcode === 0x1 || opcode === 0x0) {
        fragments.push(data.subarray(start, start + length));
        if (fin) {
          handlers.text(Buffer.concat(fragments).toString('utf8'), ws);
          fragments = [];
        }
      } else if (opcode === 0x9) socket.write(frame(0xa, data.subarray(start, start + length)));
      else if (opcode === 0x8) ws.close();
      offset = start + length;
    }
    if (offset < data.length) {
      data = data.subarray(offset);
      buffer = Buffer.from(data);
    }
  };

  return new Promise((resolve, reject) => {
    let head = '';
    const onHandshake = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onHandshake);
      const response = head.slice(0, end);
      if (!/^HTTP\/1\.1 101/.test(response) || !response.includes(accept)) {
        socket.destroy();
        reject(new Error(`websocket upgrade refused: ${response.split('\r\n')[0] ?? ''}`));
        return;
      }
      socket.on('data', onData);
      resolve(ws);
      const rest = Buffer.from(head.slice(end + 4), 'latin1');
      if (rest.length > 0) onData(rest);
    };
    socket.on('data', onHandshake);
    socket.once('connect', () => {
      socket.write(
        `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    socket.on('error', (error) => {
      if (!closed) reject(error);
    });
    socket.on('close', () => {
      closed = true;
      handlers.close();
    });
  });
}
