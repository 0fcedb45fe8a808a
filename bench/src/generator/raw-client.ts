import {
  handshake,
  type BenchClient,
  type ClientHandlers,
  type ResumePoint,
  type SendAck,
} from './client';
import type { ClientSpec } from './protocol';
import { openWebSocket, type BareWebSocket } from './websocket';

/**
 * A minimal Socket.IO client: Engine.IO v4 and Socket.IO v5 over one websocket, just what the
 * bench needs (connect with `auth`, answer pings, emit with an ack, receive events). The wire
 * is exactly what socket.io-client sends and receives; what it saves is the client-side work
 * per received message (no decoder, no emitter, no JSON.parse of room messages: the text is cut
 * out of the frame), so that on a 2-core machine the generators leave the cores to the systems
 * under test. `--client socket.io` runs the real client instead, to cross-check.
 *
 * A client with `fallbackUrls` comes back after its connection drops, to those URLs in turn,
 * resuming where it was on ours (resume token, the last seq it saw and its epoch).
 */
const MESSAGE_EVENT = '42["message",';
const MESSAGES_EVENT = '42["messages",';
const SYNCED_EVENT = '42["synced",';
const WELCOME_EVENT = '42["welcome",';
const TEXT_FIELD = '"text":"';
const SEQ_FIELD = '"seq":';

/** A client that cannot get back within this long gives up. @default 60_000 */
const RECONNECT_DEADLINE_MS = 60_000;
/** First pause between reconnect attempts, doubled up to 2 s (with jitter). @default 100 */
const RECONNECT_DELAY_MS = 100;

/** The last `"seq":N` in a packet (ours' messages carry it; the baselines' do not). */
function lastSeq(packet: string): number | undefined {
  const at = packet.lastIndexOf(SEQ_FIELD);
  if (at < 0) return undefined;
  const seq = parseInt(packet.slice(at + SEQ_FIELD.length, at + SEQ_FIELD.length + 16), 10);
  return Number.isFinite(seq) ? seq : undefined;
}

function payloadOf(packet: string, prefix: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(packet.slice(prefix.length, -1));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

interface Session {
  ws: BareWebSocket;
  acks: Map<number, (response: SendAck) => void>;
}

/** One connection into the room: resolves once `synced`, rejects if refused or closed first. */
async function openSession(
  url: string,
  spec: ClientSpec,
  point: ResumePoint,
  handlers: ClientHandlers,
  dropped: () => void,
): Promise<Session> {
  const endpoint = new URL('/socket.io/?EIO=4&transport=websocket', url);
  const acks = new Map<number, (response: SendAck) => void>();
  const track = spec.fallbackUrls !== undefined;
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

  const ws: BareWebSocket = await openWebSocket(
    endpoint,
    {
      text(packet, ws) {
        switch (packet.charCodeAt(0)) {
          case 0x34: // Engine.IO message: a Socket.IO packet follows.
            if (packet.startsWith(MESSAGE_EVENT)) {
              const start = packet.indexOf(TEXT_FIELD, MESSAGE_EVENT.length) + TEXT_FIELD.length;
              if (start >= TEXT_FIELD.length) {
                handlers.message(packet.slice(start, packet.indexOf('"', start)));
              }
              if (track) point.since = lastSeq(packet) ?? point.since;
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
              if (track) point.since = lastSeq(packet) ?? point.since;
            } else if (packet.charCodeAt(1) === 0x33) {
              answer(packet);
            } else if (packet.startsWith(SYNCED_EVENT) && !live) {
              if (track) {
                const synced = payloadOf(packet, SYNCED_EVENT);
                if (typeof synced.seq === 'number') point.since = synced.seq;
                if (typeof synced.epoch === 'string') point.epoch = synced.epoch;
              }
              live = true;
              joined?.resolve();
            } else if (track && packet.startsWith(WELCOME_EVENT)) {
              const welcome = payloadOf(packet, WELCOME_EVENT);
              if (typeof welcome.resumeToken === 'string') point.resume = welcome.resumeToken;
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
            ws.send(`40${JSON.stringify({ ...handshake(spec), ...point })}`);
            return;
          case 0x31: // Engine.IO close
            ws.close();
            return;
        }
      },
      close() {
        if (live) dropped();
        else fail(new Error('closed before joining'));
      },
    },
    spec.localAddress,
  );
  await new Promise<void>((resolve, reject) => {
    joined = { resolve, reject };
    if (live) resolve();
    else if (failure) reject(failure);
  }).catch((error: unknown) => {
    ws.close();
    throw new Error(`${url}: ${error instanceof Error ? error.message : String(error)}`);
  });
  return { ws, acks };
}

export async function connectRaw(spec: ClientSpec, handlers: ClientHandlers): Promise<BenchClient> {
  const point: ResumePoint = {};
  let nextAck = 0;
  let stopped = false;
  let session: Session;

  const comeBack = async (fallbacks: string[]) => {
    const deadline = Date.now() + RECONNECT_DEADLINE_MS;
    let delay = RECONNECT_DELAY_MS;
    for (let attempt = 0; !stopped; attempt++) {
      const url = fallbacks[attempt % fallbacks.length] ?? spec.url;
      try {
        session = await openSession(url, spec, point, handlers, dropped);
        handlers.reconnected?.();
        return;
      } catch {
        if (Date.now() + delay > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random())));
        delay = Math.min(2_000, delay * 2);
      }
    }
    if (!stopped) handlers.gaveUp?.();
  };

  function dropped(): void {
    handlers.disconnected();
    if (stopped || !spec.fallbackUrls || spec.fallbackUrls.length === 0) return;
    void comeBack(spec.fallbackUrls);
  }

  session = await openSession(spec.url, spec, point, handlers, dropped);
  return {
    spec,
    send(text, ack) {
      const id = nextAck++;
      session.acks.set(id, ack);
      // Bench texts are [a-z0-9. ] only: no escaping needed.
      session.ws.send(`42${id}["send",{"text":"${text}"}]`);
    },
    pause: () => session.ws.pause(),
    resume: () => session.ws.resume(),
    get closed() {
      return session.ws.closed;
    },
    close: () => {
      stopped = true;
      session.ws.close();
    },
  };
}
