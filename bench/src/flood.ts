/**
 * S5, flooders (issue #11, point 10): what senders over their budget cost everyone else.
 * Two gateways on one Redis with the default per-user budget (20/s, burst 40); ten clients in
 * pairs send 10 messages/s each and time send -> delivery at their peer; meanwhile 0 (control),
 * 1 and 20 flooders each keep 64 sends in flight as fast as the acks return, and reconnect when
 * cut off. One line per phase: the others' p50/p99 and what became of the flooders' sends.
 * Loopback only, bounded: `--seconds` per phase (default 5).
 *
 *   npx tsx bench/src/flood.ts [--seconds 5] [--gateway-ref <commit>]
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  PROTOCOL_VERSION,
  type ClientToServerEvents,
  type ServerToClientEvents,
} from '@chat/protocol';
import { io, type Socket } from 'socket.io-client';
import { buildBundles } from './build';
import { freePort } from '@chat/test-support';
import { say, warn } from './out';
import { killAll, spawnProc, stopProc, type Proc } from './procs';
import { ensureRedisTools, startRedis } from './redis';

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

const root = join(import.meta.dirname, '..', '..');
const logDir = join(root, 'bench', 'results', 'tmp', 'logs');
const secondsArg = process.argv.indexOf('--seconds');
const PHASE_MS = 1_000 * (secondsArg > 0 ? Number(process.argv[secondsArg + 1]) : 5);
const refArg = process.argv.indexOf('--gateway-ref');
/** The gateway as committed at this ref instead of the working tree (for before/after). */
const GATEWAY_REF = refArg > 0 ? process.argv[refArg + 1] : undefined;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function ready(url: string): Promise<void> {
  for (let tries = 0; tries < 150; tries++) {
    const ok = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`${url} not ready`);
}

function connect(url: string, name: string, room: string): Promise<Client> {
  const socket: Client = io(url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    auth: { v: PROTOCOL_VERSION, name, room },
  });
  return new Promise((resolve, reject) => {
    socket.once('synced', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
}

async function phase(urls: string[], flooders: number, tag: string): Promise<string> {
  const sockets: Client[] = [];
  const latencies: number[] = [];
  const sentAt = new Map<string, number>();
  for (let pair = 0; pair < 5; pair++) {
    const room = `${tag}p${pair}`;
    const a = await connect(urls[0] ?? '', `${tag}a${pair}`, room);
    const b = await connect(urls[1] ?? '', `${tag}b${pair}`, room);
    b.on('message', (m) => {
      const t = sentAt.get(m.text);
      if (t !== undefined) latencies.push(performance.now() - t);
    });
    sockets.push(a, b);
  }
  const end = performance.now() + PHASE_MS;
  let refused = 0;
  let accepted = 0;
  let cutOff = 0;
  let reconnects = 0;
  /**
   * A flooder keeps 64 sends in flight as fast as the answers come, ignoring RATE_LIMITED; when
   * the node cuts it off it comes straight back under a new name, as an attacker would (the
   * per-address connection limits, at their defaults, decide how fast).
   */
  const flood = async (i: number) => {
    let attempt = 0;
    while (performance.now() < end) {
      let socket: Client;
      try {
        socket = await connect(urls[i % 2] ?? '', `${tag}f${i}x${attempt++}`, `${tag}flood`);
      } catch {
        await sleep(50);
        continue;
      }
      if (attempt > 1) reconnects++;
      sockets.push(socket);
      let open = true;
      socket.once('disconnect', () => {
        open = false;
        cutOff++;
      });
      const lane = async () => {
        while (open && performance.now() < end) {
          const ack = await socket
            .timeout(2_000)
            .emitWithAck('send', { text: 'flood' })
            .catch(() => undefined);
          if (ack?.ok) accepted++;
          else if (ack) refused++;
        }
      };
      await Promise.all(Array.from({ length: 64 }, lane));
    }
  };
  const flooding = Array.from({ length: flooders }, (_, i) => flood(i));
  let n = 0;
  const senders = sockets.slice(0, 10).filter((_, i) => i % 2 === 0);
  while (performance.now() < end) {
    for (const socket of senders) {
      const text = `${tag}-${++n}`;
      sentAt.set(text, performance.now());
      socket.emit('send', { text }, () => undefined);
    }
    await sleep(100);
  }
  await Promise.allSettled(flooding);
  await sleep(500);
  for (const socket of sockets) socket.disconnect();
  const sorted = latencies.sort((x, y) => x - y);
  return (
    `${String(flooders).padStart(2)} flooders: others p50 ${percentile(sorted, 0.5).toFixed(1)} ms, ` +
    `p99 ${percentile(sorted, 0.99).toFixed(1)} ms (${sorted.length}/${n} delivered); ` +
    `flooders ${accepted} accepted, ${refused} refused, cut off ${cutOff} times, ${reconnects} reconnects`
  );
}

async function main(): Promise<void> {
  mkdirSync(logDir, { recursive: true });
  const tools = ensureRedisTools(join(logDir, 'flood-apt.log'));
  const redis = await startRedis(tools, await freePort(), join(logDir, 'flood-redis.log'));
  const bundles = await buildBundles(root, GATEWAY_REF);
  const procs: Proc[] = [];
  const urls: string[] = [];
  for (let i = 0; i < 2; i++) {
    const port = await freePort();
    procs.push(
      spawnProc(`flood-n${i}`, process.execPath, [bundles.gateway], {
        log: join(logDir, `flood-n${i}.log`),
        env: {
          ...process.env,
          NODE_ENV: 'production',
          PORT: String(port),
          HOST: '127.0.0.1',
          REDIS_URL: redis.url,
          NODE_ID: `flood-n${i}`,
          LOG_LEVEL: 'warn',
          // Everyone is 127.0.0.1 here: the per-user budget and the per-address connection
          // limits (their defaults) are under test, not the anonymous per-address budget.
          ANON_RATE_PER_IP: '1000000',
          ANON_BURST_PER_IP: '1000000',
        },
      }),
    );
    urls.push(`http://127.0.0.1:${port}`);
  }
  try {
    await Promise.all(urls.map(ready));
    for (const [flooders, tag] of [
      [0, 'c'],
      [1, 'o'],
      [20, 't'],
    ] as const) {
      say(await phase(urls, flooders, tag));
    }
  } finally {
    for (const proc of procs) await stopProc(proc);
    await redis.stop();
    killAll();
  }
}

void main().catch((error: unknown) => {
  warn(String(error));
  killAll();
  process.exit(1);
});
