import { freePort, type RedisClusterGroup } from '@chat/test-support';
import { join } from 'node:path';
import type { Bundles } from './build';
import { sleep } from './clock';
import { spawnProc, stopProc, type Proc } from './procs';
import type { RedisServer } from './redis';

export const SYSTEM_NAMES = [
  'ours',
  'ours-unbatched',
  'ours-ref',
  'adapter',
  'sharded',
  'memory',
  'ours-cluster',
  'sharded-cluster',
] as const;
export type SystemName = (typeof SYSTEM_NAMES)[number];

export const SYSTEMS: Record<
  SystemName,
  { label: string; usesRedis: boolean; multiNode: boolean }
> = {
  ours: { label: 'ours (gateway + Redis, batched clients)', usesRedis: true, multiNode: true },
  'ours-unbatched': {
    label: 'ours, one event per message',
    usesRedis: true,
    multiNode: true,
  },
  'ours-ref': {
    label: 'ours at --baseline-ref (batched clients)',
    usesRedis: true,
    multiNode: true,
  },
  adapter: { label: 'Socket.IO + redis-adapter', usesRedis: true, multiNode: true },
  sharded: { label: 'Socket.IO + sharded adapter', usesRedis: true, multiNode: true },
  memory: { label: 'Socket.IO in memory, 1 node', usesRedis: false, multiNode: false },
  'ours-cluster': {
    label: 'ours on a 3-master Redis Cluster (batched clients)',
    usesRedis: true,
    multiNode: true,
  },
  'sharded-cluster': {
    label: 'Socket.IO + sharded adapter on the same cluster',
    usesRedis: true,
    multiNode: true,
  },
};

/** Systems on the Redis Cluster (S5, `s5-cluster.ts`) instead of the one Redis. */
export function onCluster(system: SystemName): boolean {
  return system === 'ours-cluster' || system === 'sharded-cluster';
}

/**
 * Our gateway, with clients that ask for `messages` batches (`auth.batch`, what the CLI does) or
 * with clients that take one `message` event per message (the protocol's default); `ours-ref` is
 * our gateway as built from `--baseline-ref`, for a before/after comparison in one run.
 */
export function isOurs(system: SystemName): boolean {
  return (
    system === 'ours' ||
    system === 'ours-unbatched' ||
    system === 'ours-ref' ||
    system === 'ours-cluster'
  );
}

/** Clients of these systems ask for `messages` batches. */
export function takesBatches(system: SystemName): boolean {
  return system === 'ours' || system === 'ours-ref' || system === 'ours-cluster';
}

function gatewayBundle(system: SystemName, bundles: Bundles): string {
  if (system !== 'ours-ref') return bundles.gateway;
  if (bundles.refGateway === undefined) throw new Error("system 'ours-ref' needs --baseline-ref");
  return bundles.refGateway;
}

/** Systems that are variants of another for clients only: S1 measures them, S2-S4 do not. */
export const CLIENT_VARIANTS: readonly SystemName[] = ['ours-unbatched'];

export function isSystemName(value: string): value is SystemName {
  return (SYSTEM_NAMES as readonly string[]).includes(value);
}

export interface ServerProc {
  proc: Proc;
  port: number;
  url: string;
}

/** One running instance of a system under test: its server processes (and the shared Redis). */
export interface Cluster {
  system: SystemName;
  servers: ServerProc[];
  redis: RedisServer | undefined;
  /** pid → role, for every process whose CPU counts as the system's (servers, Redis). */
  sutPids(): Map<number, string>;
  stop(): Promise<void>;
}

export interface ClusterEnv {
  bundles: Bundles;
  redis: RedisServer;
  logDir: string;
  /** Unique per harness run, so Redis keys of different instances never meet. */
  runId: string;
  /** `--cpu-prof` for the first server of this system, written here. */
  profile?: { system: SystemName; dir: string };
  /** The Redis Cluster of the `*-cluster` systems (S5 only). */
  redisCluster?: RedisClusterGroup;
  /** More settings for our gateways (the archive scenario's DATABASE_URL). */
  gatewayEnv?: Record<string, string>;
}

/** Where a system's servers find Redis: the one Redis, or the cluster's seeds; and its pids. */
async function brokerOf(
  system: SystemName,
  env: ClusterEnv,
): Promise<{ vars: Record<string, string>; pids: Map<number, string> }> {
  if (!onCluster(system)) {
    const pids = new Map<number, string>();
    if (SYSTEMS[system].usesRedis) pids.set(env.redis.proc.pid, 'redis');
    return { vars: { REDIS_URL: env.redis.url }, pids };
  }
  const cluster = env.redisCluster;
  if (!cluster) throw new Error(`system '${system}' needs the Redis Cluster (s5-cluster.ts)`);
  const masters = await cluster.masters();
  const pids = new Map<number, string>();
  masters.forEach((m, i) => {
    const pid = cluster.node(m.port).child.pid;
    if (pid !== undefined) pids.set(pid, `redis shard ${i}`);
  });
  return { vars: { REDIS_CLUSTER: cluster.seedsEnv }, pids };
}

async function waitReady(server: ServerProc, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void server.proc.exited.then(() => (exited = true));
  for (;;) {
    if (exited)
      throw new Error(`${server.proc.name} exited during start-up; see ${server.proc.log}`);
    try {
      const response = await fetch(`${server.url}/readyz`, { signal: AbortSignal.timeout(1_000) });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline)
      throw new Error(
        `${server.proc.name} not ready after ${timeoutMs} ms; see ${server.proc.log}`,
      );
    await sleep(100);
  }
}

let instances = 0;

/**
 * Starts `nodes` server processes of `system` (the in-memory baseline is always one node) and
 * resolves once all are ready (`/readyz`: for ours, connected to Redis with a canary back).
 */
export async function startCluster(
  system: SystemName,
  nodes: number,
  env: ClusterEnv,
): Promise<Cluster> {
  const instance = ++instances;
  const count = SYSTEMS[system].multiNode ? nodes : 1;
  const broker = await brokerOf(system, env);
  const servers: ServerProc[] = [];
  for (let i = 0; i < count; i++) {
    const port = await freePort();
    const name = `${system}-${instance}-n${i}`;
    const log = join(env.logDir, `${name}.log`);
    const execArgv: string[] = [];
    if (env.profile?.system === system && i === 0) {
      execArgv.push(
        '--cpu-prof',
        `--cpu-prof-dir=${env.profile.dir}`,
        `--cpu-prof-name=${system}-n0.cpuprofile`,
      );
    }
    const common = { ...process.env, NODE_ENV: 'production', PORT: String(port) };
    const proc = isOurs(system)
      ? spawnProc(name, process.execPath, [...execArgv, gatewayBundle(system, env.bundles)], {
          log,
          env: {
            ...common,
            HOST: '127.0.0.1',
            ...broker.vars,
            REDIS_PREFIX: `b${env.runId}i${instance}`,
            NODE_ID: `bench-${instance}-n${i}`,
            LOG_LEVEL: 'warn',
            // Rate limiting is per user and must not throttle the benchmark.
            RATE_PER_SEC: '1000000',
            RATE_BURST: '1000000',
            // All bench clients come from 127.0.0.1: no per-address limit either (connections,
            // sockets waiting to join, the anonymous message budget, replays).
            CONN_RATE_PER_IP: '1000000',
            CONN_BURST_PER_IP: '1000000',
            MAX_PENDING_PER_IP: '1000000',
            ANON_RATE_PER_IP: '1000000',
            ANON_BURST_PER_IP: '1000000',
            REPLAY_RATE_PER_IP: '1000000',
            REPLAY_BURST_PER_IP: '1000000',
            MAX_CONNECTIONS: '1000000',
            HISTORY_ON_JOIN: '0',
            LEAVE_GRACE_MS: '0',
            DRAIN_TIMEOUT_MS: '2000',
            ...env.gatewayEnv,
          },
        })
      : spawnProc(name, process.execPath, [...execArgv, env.bundles.baseline], {
          log,
          env: {
            ...common,
            BASELINE: system === 'sharded-cluster' ? 'sharded' : system,
            ...broker.vars,
            NODE_ID: `bench-${instance}-n${i}`,
          },
        });
    servers.push({ proc, port, url: `http://127.0.0.1:${port}` });
  }
  const redis = SYSTEMS[system].usesRedis && !onCluster(system) ? env.redis : undefined;
  const cluster: Cluster = {
    system,
    servers,
    redis,
    sutPids() {
      return new Map<number, string>([
        ...servers.map((s, i): [number, string] => [s.proc.pid, `${system} node ${i}`]),
        ...broker.pids,
      ]);
    },
    async stop() {
      await Promise.all(
        servers.map((s) => stopProc(s.proc, env.profile?.system === system ? 8_000 : 3_000)),
      );
    },
  };
  try {
    await Promise.all(servers.map((s) => waitReady(s, 20_000)));
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}
