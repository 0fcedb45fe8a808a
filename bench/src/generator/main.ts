/**
 * A load-generator process. It holds a share of the clients, sends on an open-loop schedule
 * (each message at its scheduled time, whatever happened to earlier ones, stamped with that
 * time) and counts every delivery by the bench id inside the text. Run by the harness with
 * fork(); it exits when the harness goes away.
 */
import type { Histogram } from 'hdr-histogram-js';
import { nowMs } from '../clock';
import { encodeHistogram, newHistogram, recordMs } from '../histogram';
import type { BenchClient, ClientKind, Connect, SendAck } from './client';
import {
  benchText,
  parseBenchText,
  type ClientSpec,
  type GenReport,
  type ReplyMap,
  type Request,
  type StepSpec,
} from './protocol';
import { connectRaw } from './raw-client';
import { connectSocketIo } from './sio-client';

type Client = BenchClient;
const CONNECT: Record<ClientKind, Connect> = { raw: connectRaw, 'socket.io': connectSocketIo };

let gen = 0;
const clients: Client[] = [];
let senders: Client[] = [];
let disconnects = 0;
const reconnects = { reconnected: 0, gaveUp: 0, lastAt: Number.NaN };

interface StepState {
  spec: StepSpec;
  counts: Uint16Array[];
  histogram: Histogram;
  sendLag: Histogram;
  sentRooms: number[];
  sent: number;
  received: number;
  windowDeliveries: number;
  acks: number;
  sendErrors: number;
  errorCodes: Record<string, number>;
  stale: number;
}
let step: StepState | undefined;
let timer: NodeJS.Timeout | undefined;

function connectOne(spec: ClientSpec, kind: ClientKind): Promise<Client> {
  let client: Client | undefined;
  const connecting = CONNECT[kind](spec, {
    message: (text) => {
      if (client) receive(client, text);
    },
    disconnected: () => disconnects++,
    reconnected: () => {
      reconnects.reconnected++;
      reconnects.lastAt = nowMs();
    },
    gaveUp: () => reconnects.gaveUp++,
  });
  return connecting.then((connected) => (client = connected));
}

async function connectAll(
  specs: ClientSpec[],
  kind: ClientKind,
  concurrency: number,
): Promise<number> {
  let next = 0;
  const worker = async () => {
    while (next < specs.length) {
      const spec = specs[next++];
      if (spec) clients.push(await connectOne(spec, kind));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  senders = interleaveByRoom(clients.filter((c) => c.spec.sender && !c.spec.slow));
  return clients.length;
}

/** Consecutive sends go to different rooms, so every room gets an even share of the rate. */
function interleaveByRoom(list: Client[]): Client[] {
  const byRoom = new Map<number, Client[]>();
  for (const client of list) {
    let queue = byRoom.get(client.spec.roomIdx);
    if (!queue) byRoom.set(client.spec.roomIdx, (queue = []));
    queue.push(client);
  }
  const queues = [...byRoom.values()];
  const out: Client[] = [];
  for (let i = 0; out.length < list.length; i++) {
    for (const queue of queues) {
      const client = queue[i];
      if (client) out.push(client);
    }
  }
  return out;
}

function receive(client: Client, text: string): void {
  const now = nowMs();
  const state = step;
  if (!state) return;
  const parsed = parseBenchText(text);
  if (!parsed) return;
  if (parsed.step !== state.spec.step) {
    state.stale++;
    return;
  }
  const counts = state.counts[parsed.gen];
  if (counts && parsed.k < counts.length) counts[parsed.k] = (counts[parsed.k] ?? 0) + 1;
  state.received++;
  if (now >= state.spec.measureFrom && now < state.spec.endAt) state.windowDeliveries++;
  const { scheduled } = parsed;
  const paused = client.spec.slow && state.spec.pauseSlow;
  if (!paused && scheduled >= state.spec.measureFrom && scheduled < state.spec.endAt) {
    recordMs(state.histogram, now - scheduled);
  }
}

function startStep(spec: StepSpec): void {
  if (timer) clearTimeout(timer);
  const state: StepState = {
    spec,
    counts: spec.totals.map((n) => new Uint16Array(n)),
    histogram: newHistogram(),
    sendLag: newHistogram(),
    sentRooms: [],
    sent: 0,
    received: 0,
    windowDeliveries: 0,
    acks: 0,
    sendErrors: 0,
    errorCodes: {},
    stale: 0,
  };
  step = state;
  disconnects = 0;
  if (spec.pauseSlow) for (const client of clients) if (client.spec.slow) client.pause();
  const total = spec.totals[gen] ?? 0;
  if (total === 0 || senders.length === 0) return;
  const interval = 1000 / spec.rate;
  const ack = (response: SendAck) => {
    if (response.ok) state.acks++;
    else {
      state.sendErrors++;
      const code = response.error?.code ?? 'UNKNOWN';
      state.errorCodes[code] = (state.errorCodes[code] ?? 0) + 1;
    }
  };
  const tick = () => {
    const now = nowMs();
    // Everything due is sent now, stamped with its scheduled time: a stall shows as latency.
    while (state.sent < total) {
      const scheduled = spec.startAt + state.sent * interval;
      if (scheduled > now) break;
      const sender = senders[state.sent % senders.length];
      if (!sender) break;
      const k = state.sent++;
      state.sentRooms.push(sender.spec.roomIdx);
      recordMs(state.sendLag, now - scheduled);
      sender.send(benchText(spec.step, gen, k, scheduled, spec.textBytes), ack);
    }
    if (state.sent >= total || step !== state) return;
    const due = spec.startAt + state.sent * interval;
    timer = setTimeout(tick, Math.max(0, due - nowMs()));
  };
  timer = setTimeout(tick, Math.max(0, spec.startAt - nowMs()));
}

function report(): GenReport {
  const state = step;
  if (!state) throw new Error('no step has run');
  return {
    gen,
    sent: state.sent,
    sentRooms: state.sentRooms,
    counts: state.counts.map((c) => Array.from(c)),
    histogram: encodeHistogram(state.histogram),
    windowDeliveries: state.windowDeliveries,
    sendLag: encodeHistogram(state.sendLag),
    acks: state.acks,
    sendErrors: state.sendErrors,
    errorCodes: state.errorCodes,
    stale: state.stale,
    disconnects,
  };
}

async function handle(request: Request): Promise<ReplyMap[keyof ReplyMap]> {
  switch (request.type) {
    case 'connect': {
      gen = request.gen;
      const started = nowMs();
      const connected = await connectAll(request.clients, request.client, request.concurrency);
      return { connected, ms: Math.round(nowMs() - started) };
    }
    case 'run':
      startStep(request.spec);
      return {};
    case 'progress':
      return { received: step?.received ?? 0, sent: step?.sent ?? 0, ...reconnects };
    case 'report':
      return report();
    case 'resume': {
      const slow = clients.filter((c) => c.spec.slow);
      for (const client of slow) client.resume();
      // A connection the server closed meanwhile shows as closed once its backlog is read.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      return { slow: slow.length, dropped: slow.filter((c) => c.closed).length };
    }
    case 'close':
      if (timer) clearTimeout(timer);
      for (const client of clients) client.close();
      setTimeout(() => process.exit(0), 200).unref();
      return {};
  }
}

process.on('message', (raw) => {
  const request = raw as Request;
  handle(request).then(
    (result) => process.send?.({ id: request.id, ok: true, result }),
    (error: unknown) =>
      process.send?.({
        id: request.id,
        ok: false,
        error: error instanceof Error ? error.message : String(error),
      }),
  );
});
// The harness is gone (even SIGKILLed): nothing left to do here.
process.on('disconnect', () => process.exit(0));
