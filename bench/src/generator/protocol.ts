/**
 * What the harness and its load-generator processes say to each other over the fork IPC
 * channel: requests with an id, each answered once with the same id.
 */

/** One client a generator holds. */
export interface ClientSpec {
  url: string;
  room: string;
  /** Index of the room in the plan (messages carry it implicitly through their sender). */
  roomIdx: number;
  /** Takes part in the send schedule. */
  sender: boolean;
  /** Stops reading from its TCP socket when a step with `pauseSlow` starts (scenario S4). */
  slow: boolean;
  /** Asks for `messages` batches (`auth.batch`, ours only; the baselines ignore it). */
  batch: boolean;
  /** Connects from this loopback address (S6: more clients than one address has ports). */
  localAddress?: string;
  /**
   * When the connection drops after joining, the client comes back to one of these (S6's
   * reconnect storm), resuming where it was (`auth.resume`, `since`, `epoch`) on ours.
   */
  fallbackUrls?: string[];
}

/** A step: an open-loop schedule on the machine-wide monotonic clock (see clock.ts). */
export interface StepSpec {
  step: number;
  /** Messages per second this generator sends, spread over its senders in turn. */
  rate: number;
  /** First scheduled send. */
  startAt: number;
  /** Latencies of messages scheduled from here on are recorded (the rest is warm-up). */
  measureFrom: number;
  /** No send is scheduled at or after this. */
  endAt: number;
  /** Messages each generator sends in this step, by generator index (to size the counters). */
  totals: number[];
  /** Length of every message text, padding included. */
  textBytes: number;
  /** Slow clients stop reading now (and for good); their latencies are not recorded. */
  pauseSlow: boolean;
}

export interface GenReport {
  gen: number;
  /** Messages sent; `sentRooms[k]` is the room index of this generator's message k. */
  sent: number;
  sentRooms: number[];
  /** `counts[g][k]`: deliveries this generator's clients got of generator g's message k. */
  counts: number[][];
  /** HDR histogram (µs, compressed base64) of scheduled-send-to-receive latency. */
  histogram: string;
  /** Deliveries received inside [measureFrom, endAt). */
  windowDeliveries: number;
  /** How late sends left compared to their schedule (generator health), µs histogram. */
  sendLag: string;
  acks: number;
  sendErrors: number;
  errorCodes: Record<string, number>;
  /** Messages of earlier steps that arrived during this one. */
  stale: number;
  /** Clients that lost their connection since connecting. */
  disconnects: number;
}

/** Where the clients with fallback URLs stand (S6's reconnect storm). */
export interface Reconnects {
  /** Clients back in their room after a drop, since connecting. */
  reconnected: number;
  /** Clients that stopped trying (their reconnect deadline passed). */
  gaveUp: number;
  /** Monotonic ms of the last client's return (NaN: none yet). */
  lastAt: number;
}

export type Request =
  | {
      id: number;
      type: 'connect';
      gen: number;
      client: 'raw' | 'socket.io';
      clients: ClientSpec[];
      concurrency: number;
    }
  | { id: number; type: 'run'; spec: StepSpec }
  | { id: number; type: 'progress' }
  | { id: number; type: 'report' }
  | { id: number; type: 'resume' }
  | { id: number; type: 'close' };

export interface ReplyMap {
  connect: { connected: number; ms: number };
  run: Record<string, never>;
  progress: { received: number; sent: number } & Reconnects;
  report: GenReport;
  /** Slow clients read again; how many of them the server had closed meanwhile. */
  resume: { slow: number; dropped: number };
  close: Record<string, never>;
}

export type Reply =
  | { id: number; ok: true; result: ReplyMap[keyof ReplyMap] }
  | { id: number; ok: false; error: string };

/**
 * Message text: `b<step> <gen> <k> <scheduled ms>` padded with `.` to a fixed length. The
 * bench's own id (step, generator, k) is in the text, so every system is counted the same way.
 */
export function benchText(
  step: number,
  gen: number,
  k: number,
  scheduled: number,
  bytes: number,
): string {
  const head = `b${step} ${gen} ${k} ${scheduled.toFixed(3)} `;
  return head.length >= bytes ? head : head + '.'.repeat(bytes - head.length);
}

export interface ParsedText {
  step: number;
  gen: number;
  k: number;
  scheduled: number;
}

export function parseBenchText(text: string): ParsedText | undefined {
  if (text.charCodeAt(0) !== 98 /* b */) return undefined;
  const a = text.indexOf(' ');
  const b = text.indexOf(' ', a + 1);
  const c = text.indexOf(' ', b + 1);
  const d = text.indexOf(' ', c + 1);
  if (a < 0 || b < 0 || c < 0 || d < 0) return undefined;
  const parsed = {
    step: Number(text.slice(1, a)),
    gen: Number(text.slice(a + 1, b)),
    k: Number(text.slice(b + 1, c)),
    scheduled: Number(text.slice(c + 1, d)),
  };
  return Number.isFinite(parsed.scheduled) ? parsed : undefined;
}
