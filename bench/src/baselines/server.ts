/**
 * The baselines: the obvious alternative to our gateway, a plain Socket.IO server doing the
 * same broadcast, in three set-ups chosen by BASELINE:
 *
 * - `adapter`: `@socket.io/redis-adapter` (classic pub/sub; every node receives every message),
 * - `sharded`: its sharded adapter (Redis 7 SPUBLISH, a channel per room),
 * - `memory`: one node, Socket.IO's in-memory adapter (the limit without Redis).
 *
 * Same handshake (`auth.room`), same events (`synced` once joined, `send` with an ack,
 * `message` to the others in the room), same transport settings as ours (websocket only,
 * no per-message deflate). Env: PORT, BASELINE, REDIS_URL (or REDIS_CLUSTER), NODE_ID.
 */
import { createServer } from 'node:http';
import { createAdapter, createShardedAdapter } from '@socket.io/redis-adapter';
import { Cluster, Redis } from 'ioredis';
import { Server } from 'socket.io';

interface Message {
  id: string;
  room: string;
  from: { id: number; name: string };
  text: string;
  ts: number;
}
type Ack = (
  response: { ok: true; id: string } | { ok: false; error: { code: string; message: string } },
) => void;
interface ClientToServer {
  send: (request: { text?: unknown }, ack?: Ack) => void;
}
interface ServerToClient {
  message: (message: Message) => void;
  synced: (synced: { room: string; seq: number; replayed: number; lost: number }) => void;
}

const mode = process.env.BASELINE ?? 'memory';
const port = Number(process.env.PORT ?? 3000);
const nodeId = process.env.NODE_ID ?? `baseline-${process.pid}`;
const redisUrl = process.env.REDIS_URL;
/** `host:port,...`: the sharded adapter on a Redis Cluster (bench S5) instead of REDIS_URL. */
const clusterSeeds = process.env.REDIS_CLUSTER;
const ROOM = /^[a-z0-9][a-z0-9_-]{0,31}$/;

let ready = mode === 'memory';
const http = createServer((req, res) => {
  const ok = req.url === '/healthz' || (req.url === '/readyz' && ready);
  res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ ready, node: nodeId, mode }));
});
const io = new Server<ClientToServer, ServerToClient>(http, {
  transports: ['websocket'],
  serveClient: false,
  perMessageDeflate: false,
  maxHttpBufferSize: 16 * 1024,
  pingInterval: 10_000,
  pingTimeout: 10_000,
});

const redisClients: (Redis | Cluster)[] = [];
if (mode === 'sharded' && clusterSeeds) {
  const seeds = clusterSeeds.split(',').map((seed) => {
    const [host = '', port = ''] = seed.split(':');
    return { host, port: Number(port) };
  });
  // ioredis sends SSUBSCRIBE to each channel's shard only with sharded subscribers on.
  const pub = new Cluster(seeds, { shardedSubscribers: true });
  const sub = new Cluster(seeds, { shardedSubscribers: true });
  redisClients.push(pub, sub);
  io.adapter(createShardedAdapter(pub, sub));
} else if (mode === 'adapter' || mode === 'sharded') {
  if (!redisUrl) throw new Error('REDIS_URL is required for the Redis adapters');
  const pub = new Redis(redisUrl);
  const sub = pub.duplicate();
  redisClients.push(pub, sub);
  io.adapter(mode === 'adapter' ? createAdapter(pub, sub) : createShardedAdapter(pub, sub));
} else if (mode !== 'memory') {
  throw new Error(`unknown BASELINE=${mode}`);
}
void Promise.all(
  redisClients.map((r) =>
    r.status === 'ready' ? undefined : new Promise((ok) => r.once('ready', ok)),
  ),
).then(() => (ready = true));

let users = 0;
let messages = 0;
io.on('connection', (socket) => {
  const auth: unknown = socket.handshake.auth;
  const asked =
    typeof auth === 'object' && auth !== null ? (auth as { room?: unknown }).room : undefined;
  const room = typeof asked === 'string' && ROOM.test(asked) ? asked : 'lobby';
  const from = { id: ++users, name: `User ${users}` };
  void socket.join(room);
  socket.emit('synced', { room, seq: 0, replayed: 0, lost: 0 });
  socket.on('send', (request, ack) => {
    const text = typeof request === 'object' && request !== null ? request.text : undefined;
    if (typeof text !== 'string' || text.trim().length === 0) {
      ack?.({ ok: false, error: { code: 'EMPTY_TEXT', message: 'message text is empty' } });
      return;
    }
    const id = `${nodeId}.${(++messages).toString(36)}`;
    socket.broadcast.to(room).emit('message', { id, room, from, text, ts: Date.now() });
    ack?.({ ok: true, id });
  });
});

function stop(): void {
  io.close();
  for (const r of redisClients) r.disconnect();
  // Exit normally so that a `--cpu-prof` profile is written.
  setTimeout(() => process.exit(0), 100).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

http.listen(port, '127.0.0.1');
