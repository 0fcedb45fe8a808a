import { handshake, type BenchClient, type ClientHandlers, type SendAck } from './client';
import type { ClientSpec } from './protocol';
import { openWebSocket, type BareWebSocket } from './websocket';

/**
 * A minimal Socket.IO client: Engine.IO v4 and Socket.IO v5 over one websocket, just what the
 * bench needs (connect with `auth`, answer pings, emit with an ack, receive events). The wire
 * is exactly what socket.io-client sends and receives; what it saves is the client-side work
 * per received message (no decoder, no emitter, no JSON.parse of room messages: the text is cut
 * out of the frame), so that on a 2-core machine the generators leave the cores to the systems
 * under test. `--client socket.io` runs the real client instead, to cross-check.
 */
const MESSAGE_EVENT = '42["message",';
const MESSAGES_EVENT = '42["messages",';
const SYNCED_EVENT = '42["synced",';
const TEXT_FIELD = '"text":"';

export async function connectRaw(spec: ClientSpec, handlers: ClientHandlers): Promise<BenchClient> {
  const url = new URL('/socket.io/?EIO=4&transport=websocket', spec.url);
  const acks = new Map<number, (response: SendAck) => void>();
  let nextAck = 0;
  let live = false;
  let failure: Error | undefined;
  let joined: { resolve: () => void; reject: (error: Error) => void } | undefined;
  const fail = (error: Error) => {
    failure ??= error;
    joined?.reject(error);
  };

  const answer = (packet: string) => {
    const bracket = packet.indexOf('[');
    const id = Number(packet.slice(2, bracket));
    const ack = acks.get(id);
    if (!ack) return;
    acks.delete(id);
    try {
      const [response] = JSON.parse(packet.slice(bracket)) as [SendAck];
      ack(response);
    } catch {
      ack({ ok: false, error: { code: 'BAD_ACK' } });
    }
  };

  const ws: BareWebSocket = await openWebSocket(url, {
    text(packet, ws) {
      switch (packet.charCodeAt(0)) {
        case 0x34: // Engine.IO message: a Socket.IO packet follows.
          if (packet.startsWith(MESSAGE_EVENT)) {
            const start = packet.indexOf(TEXT_FIELD, MESSAGE_EVENT.length) + TEXT_FIELD.length;
            if (start >= TEXT_FIELD.length) {
              handlers.message(packet.slice(start, packet.indexOf('"', start)));
            }
          } else if (packet.startsWith(MESSAGES_EVENT)) {
            // A batch: every message's text, in order.
            let at = MESSAGES_EVENT.length;
            for (;;) {
              const start = packet.indexOf(TEXT_FIELD, at);
              if (start < 0) break;
              const end = packet.indexOf('"', start + TEXT_FIELD.length);
              handlers.message(packet.slice(start + TEXT_FIELD.length, end));
              at = end;
            }
          } else if (packet.charCodeAt(1) === 0x33) {
            answer(packet);
          } else if (packet.startsWith(SYNCED_EVENT) && !live) {
            live = true;
            joined?.resolve();
          } else if (packet.charCodeAt(1) === 0x34) {
            fail(new Error(`connect_error ${packet.slice(2, 300)}`));
            ws.close();
          } else if (packet.charCodeAt(1) === 0x31) {
            ws.close();
          }
          return;
        case 0x32: // Engine.IO ping
          ws.send('3');
          return;
        case 0x30: // Engine.IO open: connect to the main namespace with the handshake.
          ws.send(`40${JSON.stringify(handshake(spec))}`);
          return;
        case 0x31: // Engine.IO close
          ws.close();
          return;
      }
    },
    close() {
      if (live) handlers.disconnected();
      else fail(new Error('closed before joining'));
    },
  });
  await new Promise<void>((resolve, reject) => {
    joined = { resolve, reject };
    if (live) resolve();
    else if (failure) reject(failure);
  }).catch((error: unknown) => {
    ws.close();
    throw new Error(`${spec.url}: ${error instanceof Error ? error.message : String(error)}`);
  });
  return {
    spec,
    send(text, ack) {
      const id = nextAck++;
      acks.set(id, ack);
      // Bench texts are [a-z0-9. ] only: no escaping needed.
      ws.send(`42${id}["send",{"text":"${text}"}]`);
    },
    pause: () => ws.pause(),
    resume: () => ws.resume(),
    get closed() {
      return ws.closed;
    },
    close: () => ws.close(),
  };
}
