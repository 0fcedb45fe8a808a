/**
 * S6, connections at scale (issue 18): our gateway against Socket.IO with the redis-adapter, in
 * one run on one Redis. For each client count (default 10,000 then 20,000):
 *
 * - idle: every client on one node, in rooms of 50, spread over several loopback source
 *   addresses; connect rate, the node's RSS growth per connection, then a trickle of 50 msg/s
 *   (p99, CPU per delivery);
 * - broadcast (first count only): one room of `--big-room` members on one node, two messages a
 *   second for 3 s; time for it to reach every member, p50 / p99 / last;
 * - storm: the clients spread over 3 nodes; node 0 is killed while the others send 50 msg/s,
 *   and its clients come back to the other two (on ours resuming with their last seq); time
 *   until all are back, clients that gave up, messages missed or doubled, Redis calls over
 *   50 ms (SLOWLOG).
 *
 *   npx tsx bench/src/s6-connections.ts [--clients 10000,20000] [--big-room 10000]
 *     [--systems ours,adapter] [--skip broadcast,storm] [--gateway-ref <ref>]
 *     [--baseline-ref <ref>]   (adds system `ours-ref`, the gateway at that ref, to the run)
 *     [--profile <system>]     (node 0 of that system with --cpu-prof; the last session's profile
 *                               stays, so pair it with --skip)
 *
 * A server needs one file descriptor per client: the script raises its open-files limit where
 * it may (children inherit it) and skips, saying so, client counts that one server cannot hold.
 */
import { freePort } from '@chat/test-support';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { buildBundles } from './build';
import { isSystemName, type SystemName } from './cluster';
import { nowMs, sleep } from './clock';
import { say, warn } from './out';
import { installCleanup, stopProc } from './procs';
import { ensureRedisTools, findBinary, startRedis } from './redis';
import { s6Markdown, type S6Row } from './s6-report';
import { Session, type BenchEnv, type Layout } from './session';
import type { Timing } from './step';
import { stepLine } from './sweep';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TMP = join(ROOT, 'bench/results/tmp');

function arg(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : undefined;
}

const COUNTS = (arg('clients') ?? '10000,20000').split(',').map(Number);
const BIG_ROOM = Number(arg('big-room') ?? 10_000);
const SYSTEMS = (arg('systems') ?? 'ours,adapter').split(',').filter(isSystemName);
const SKIP = new Set((arg('skip') ?? '').split(','));
/** Loopback source addresses the clients are dealt over (ports per address: ~28,000). */
const SOURCES = 4;
const CONNECT = { concurrency: 64, timeoutMs: 600_000 };
const TRICKLE: Timing = { warmupMs: 1_000, measureMs: 5_000, drainMs: 3_000 };
/** Messages per second of the idle step's trickle. */
const TRICKLE_RATE = 50;

/**
 * The idle step's timing: its warm-up lasts until every room has had messages (the senders
 * take the rooms in turn), so the measured window holds no room's first message. On ours that
 * message also tells every member the room log's first epoch (a `synced` to each of the 50): a
 * once-per-room cost of the join, which measured as part of the trickle made it ~40% more frames.
 */
function trickleTiming(rooms: number): Timing {
  return { ...TRICKLE, warmupMs: Math.max(TRICKLE.warmupMs, (2 * rooms * 1000) / TRICKLE_RATE) };
}

/** The soft limit on open files of this process (children inherit it). */
function openFilesLimit(): number {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  return Number(line?.split(/\s+/)[3] ?? Number.NaN);
}

/** Descriptors a server needs beside its clients' sockets (Redis, logs, listeners). */
const SPARE_FILES = 500;

/**
 * Raises the open-files limit to what `clients` on one server need, where allowed (root with
 * CAP_SYS_RESOURCE); resolves to the most clients one server can hold under the limit in force.
 */
function ensureOpenFiles(clients: number): number {
  const needed = clients + SPARE_FILES;
  const prlimit = findBinary('prlimit');
  if (openFilesLimit() < needed && process.getuid?.() === 0 && prlimit) {
    try {
      execFileSync(prlimit, ['--pid', String(process.pid), `--nofile=${needed}:${needed}`], {
        stdio: 'ignore',
      });
      say(`raised the open-files limit to ${needed}`);
    } catch {
      warn(`could not raise the open-files limit (${openFilesLimit()}): no CAP_SYS_RESOURCE here`);
    }
  }
  return openFilesLimit() - SPARE_FILES;
}

/** `clients` in rooms of 50 on `nodes` nodes, dealt over the source addresses. */
function roomsOf50(clients: number, nodes: number): Layout {
  const placement = nodes === 1 ? 'local' : 'spread';
  return { rooms: Math.ceil(clients / 50), roomSize: 50, nodes, placement, sources: SOURCES };
}

async function idle(system: SystemName, clients: number, env: BenchEnv): Promise<S6Row['idle']> {
  const layout = roomsOf50(clients, 1);
  const timing = trickleTiming(layout.rooms);
  const session = await Session.open(system, 's6', layout, timing, env, CONNECT);
  try {
    const c = session.connected;
    const grownKb = (c.rssKbAfter[0] ?? Number.NaN) - (c.rssKbBefore[0] ?? Number.NaN);
    const step = await session.step(TRICKLE_RATE);
    return {
      connectMs: c.ms,
      connectPerSec: (c.clients * 1000) / c.ms,
      rssKbPerConnection: grownKb / c.clients,
      rssMb: (c.rssKbAfter[0] ?? Number.NaN) / 1024,
      trickleP99: step.latency.p99,
      cpuUsPerDelivery: step.cpuUsPerDelivery,
      lost: step.lost,
    };
  } finally {
    await session.close();
  }
}

async function broadcast(system: SystemName, env: BenchEnv): Promise<S6Row['broadcast']> {
  const layout: Layout = { rooms: 1, roomSize: BIG_ROOM, nodes: 1, placement: 'local' };
  const started = nowMs();
  let session: Session;
  try {
    session = await Session.open(
      system,
      's6-room',
      { ...layout, sources: SOURCES },
      // The warm-up's message is the room's first; the measured ones follow it.
      { warmupMs: 500, measureMs: 3_000, drainMs: 10_000 },
      env,
      { concurrency: 64, timeoutMs: 300_000 },
    );
  } catch (error) {
    warn(`  ${system}: the ${BIG_ROOM}-member room did not fill: ${String(error)}`);
    return { joinMs: nowMs() - started, p50: Number.NaN, p99: Number.NaN, last: Number.NaN };
  }
  try {
    const step = await session.step(2);
    say(stepLine(step));
    return {
      joinMs: session.connected.ms,
      p50: step.latency.p50,
      p99: step.latency.p99,
      last: step.latency.max,
      lost: step.lost,
    };
  } finally {
    await session.close();
  }
}

async function storm(
  system: SystemName,
  clients: number,
  env: BenchEnv,
  redisPort: number,
): Promise<S6Row['storm']> {
  const layout: Layout = { ...roomsOf50(clients, 3), quietNodes: [0], failover: true };
  const timing: Timing = { warmupMs: 1_000, measureMs: 10_000, drainMs: 10_000 };
  const session = await Session.open(system, 's6-storm', layout, timing, env, CONNECT);
  const moving = session.plan.clients.filter((c) => c.node === 0).length;
  const redis = new Redis(redisPort, '127.0.0.1');
  try {
    await redis.config('SET', 'slowlog-log-slower-than', '50000');
    await redis.slowlog('RESET');
    let killedAt = Number.NaN;
    let back = { reconnected: 0, gaveUp: 0, lastAt: Number.NaN };
    const step = await session.step(50, {
      during: async () => {
        const node = session.servers[0];
        if (!node) return;
        killedAt = nowMs();
        await stopProc(node.proc, 0);
        const deadline = killedAt + 70_000;
        do {
          await sleep(250);
          back = await session.fleet.progress();
        } while (back.reconnected + back.gaveUp < moving && nowMs() < deadline);
      },
    });
    const slow = Number(await redis.slowlog('LEN'));
    return {
      moved: moving,
      backMs: back.reconnected >= moving ? back.lastAt - killedAt : Number.NaN,
      reconnected: back.reconnected,
      gaveUp: back.gaveUp,
      lost: step.lost,
      duplicates: step.duplicates,
      slowRedisCalls: slow,
    };
  } finally {
    redis.disconnect();
    await session.close();
  }
}

async function main(): Promise<void> {
  const fit = ensureOpenFiles(Math.max(...COUNTS, BIG_ROOM));
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const logDir = join(TMP, 'logs', `s6-${stamp}`);
  mkdirSync(logDir, { recursive: true });
  installCleanup(join(TMP, 'pids'), 3_600_000);
  const tools = ensureRedisTools(join(logDir, 'apt.log'));
  const redis = await startRedis(tools, await freePort(), join(logDir, 'redis.log'));
  const env: BenchEnv = {
    root: ROOT,
    bundles: await buildBundles(ROOT, arg('gateway-ref'), arg('baseline-ref')),
    redis,
    logDir,
    runId: Date.now().toString(36),
    generators: 2,
    textBytes: 64,
    client: 'raw',
  };
  const profiled = arg('profile');
  if (profiled !== undefined) {
    if (!isSystemName(profiled)) throw new Error(`unknown system '${profiled}' for --profile`);
    env.profile = { system: profiled, dir: join(TMP, 'profile', `s6-${stamp}`) };
    say(`s6: profiling node 0 of ${profiled} into ${env.profile.dir}`);
  }
  say(`s6: ${SYSTEMS.join(', ')}; clients ${COUNTS.join(', ')}; logs in ${logDir}`);
  const rows: S6Row[] = [];
  try {
    for (const [i, clients] of COUNTS.entries()) {
      if (clients > fit) {
        warn(
          `s6: skipping ${clients} clients: one server may hold ${fit} under the open-files limit (\`ulimit -n\`)`,
        );
        continue;
      }
      for (const system of SYSTEMS) {
        say(`s6: ${system}, ${clients} clients`);
        const row: S6Row = { system, clients, idle: await idle(system, clients, env) };
        if (i === 0 && BIG_ROOM <= fit && !SKIP.has('broadcast'))
          row.broadcast = await broadcast(system, env);
        if (!SKIP.has('storm')) row.storm = await storm(system, clients, env, redis.port);
        say(JSON.stringify(row));
        rows.push(row);
      }
    }
  } finally {
    await redis.stop();
  }
  const markdown = s6Markdown(rows, BIG_ROOM);
  const runs = join(TMP, 'runs');
  mkdirSync(runs, { recursive: true });
  writeFileSync(join(runs, `s6-${stamp}.json`), JSON.stringify(rows, null, 2));
  writeFileSync(join(runs, `s6-${stamp}.md`), markdown);
  say(markdown);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    warn(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
