import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminClient } from './redis';
import { requireRedisBinaries, startRedisServer, type RedisProcess } from './redis-process';

/** How long the cluster may take to agree on its slots and sync its replicas. @default 30_000 */
const FORM_TIMEOUT_MS = 30_000;
/** Lowest data port tried; its bus port (port + 10000) must be free too. @default 20_000 */
const PORT_BASE = 20_000;

/** One master as the cluster sees it now. */
export interface ClusterMaster {
  port: number;
  replicaPorts: number[];
  /** Inclusive slot ranges it serves. */
  slots: [number, number][];
}

/** A Redis Cluster of redis-server processes on loopback. */
export interface RedisClusterGroup {
  /**
   * Every node's current process, in start order (the first `masters` were created as
   * masters); `restart` replaces a node's entry.
   */
  readonly nodes: readonly RedisProcess[];
  /** The gateways' REDIS_CLUSTER value (`127.0.0.1:p1,...`, every node). */
  readonly seedsEnv: string;
  /** The masters and their replicas, read from a live node's CLUSTER NODES. */
  masters(): Promise<ClusterMaster[]>;
  /** The current process of the node with this port. */
  node(port: number): RedisProcess;
  /**
   * Starts the node on `port` again (SIGKILLing it first if it still runs), on the same port and
   * directory (its nodes.conf), so it rejoins the cluster: as a replica when its slots were
   * taken over meanwhile. Resolves once it accepts connections; `settled` says when it rejoined.
   */
  restart(port: number): Promise<RedisProcess>;
  /**
   * Resolves once every node is up, says `cluster_state:ok`, has every replica in sync, and all
   * nodes agree on the masters (one per shard) and their slots; throws after 30 s.
   */
  settled(): Promise<void>;
  /**
   * Resolves when a live node reports a master serving the slots `deadPort` served, other than
   * `deadPort` itself: the replica's promotion (`at`: Date.now() when the test saw it).
   */
  promoted(deadPort: number, slots: [number, number][]): Promise<{ at: number; toPort: number }>;
  close(): Promise<void>;
}

export interface RedisClusterOptions {
  /** @default 3 */
  masters?: number;
  /** @default 1 */
  replicasPerMaster?: number;
  /** `cluster-node-timeout`: a master silent this long is failed over. @default 1_000 */
  nodeTimeoutMs?: number;
}

/**
 * Starts `masters * (1 + replicasPerMaster)` cluster-enabled redis-server processes, joins them
 * with `redis-cli --cluster create`, and resolves once every node sees all slots served
 * (`cluster_state:ok`) and every replica is in sync. Fails with a clear message when the
 * binaries are missing.
 */
export async function startRedisCluster(
  options: RedisClusterOptions = {},
): Promise<RedisClusterGroup> {
  requireRedisBinaries();
  const masterCount = options.masters ?? 3;
  const count = masterCount * (1 + (options.replicasPerMaster ?? 1));
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 1_000;
  const nodes: RedisProcess[] = [];
  // The group owns the directories, so that a restarted node finds its nodes.conf again.
  const dirs: string[] = [];
  const close = async () => {
    await Promise.all(nodes.map((n) => n.close()));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < count; i++) {
      const port = await clusterPort();
      const dir = mkdtempSync(join(tmpdir(), `redis-cluster-${port}-`));
      dirs.push(dir);
      nodes.push(await startRedisServer({ port, clusterNodeTimeoutMs: nodeTimeoutMs, dir }));
    }
    await redisCli([
      '--cluster',
      'create',
      ...nodes.map((n) => `127.0.0.1:${n.port}`),
      '--cluster-replicas',
      String(options.replicasPerMaster ?? 1),
      '--cluster-yes',
    ]);
    await formed(nodes, masterCount);
  } catch (error) {
    await close();
    throw error;
  }
  const live = () => nodes.filter(running);
  const masters = () => readMasters(live());
  const indexOf = (port: number) => {
    const index = nodes.findIndex((n) => n.port === port);
    if (index < 0) throw new Error(`no cluster node on port ${port}`);
    return index;
  };
  return {
    nodes,
    seedsEnv: nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
    masters,
    node: (port) => nodes[indexOf(port)] as RedisProcess,
    async restart(port) {
      const index = indexOf(port);
      const old = nodes[index] as RedisProcess;
      await old.crash();
      const back = await startRedisServer({
        port,
        clusterNodeTimeoutMs: nodeTimeoutMs,
        dir: old.dir,
      });
      nodes[index] = back;
      return back;
    },
    settled: () => formed(nodes, masterCount),
    async promoted(deadPort, slots) {
      const deadline = Date.now() + FORM_TIMEOUT_MS;
      for (;;) {
        const now = await masters().catch(() => []);
        const heir = now.find(
          (m) =>
            m.port !== deadPort &&
            slots.every(([from]) => m.slots.some(([a, b]) => a <= from && from <= b)),
        );
        if (heir) return { at: Date.now(), toPort: heir.port };
        if (Date.now() > deadline) throw new Error(`no replica of ${deadPort} was promoted`);
        await pause(50);
      }
    },
    close,
  };
}

/** A free port whose cluster bus port (+10000) is free too. */
async function clusterPort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = PORT_BASE + Math.floor(Math.random() * 10_000);
    if ((await canBind(port)) && (await canBind(port + 10_000))) return port;
  }
  throw new Error('no free port pair for a cluster node');
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function redisCli(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`redis-cli ${args.join(' ')}: ${output}`)),
    );
  });
}

function running(node: RedisProcess): boolean {
  return node.child.exitCode === null && node.child.signalCode === null;
}

/**
 * Waits until every node runs, reports cluster_state:ok and (a replica) its link up, and every
 * node's CLUSTER NODES shows the same `masterCount` masters with the same slots and replicas (a
 * node just restarted believes its old configuration until gossip corrects it).
 */
async function formed(nodes: readonly RedisProcess[], masterCount: number): Promise<void> {
  const deadline = Date.now() + FORM_TIMEOUT_MS;
  for (;;) {
    if (nodes.every(running)) {
      const states = await Promise.all(nodes.map((n) => nodeFormed(n.port)));
      const views = await Promise.all(nodes.map((n) => readMasters([n]).catch(() => undefined)));
      const first = views[0];
      const agreed =
        first !== undefined &&
        first.length === masterCount &&
        views.every((view) => view !== undefined && sameMasters(view, first));
      if (states.every(Boolean) && agreed) return;
    }
    if (Date.now() > deadline) {
      throw new Error(`the cluster did not settle in ${FORM_TIMEOUT_MS} ms`);
    }
    await pause(100);
  }
}

/** Whether two views of the masters agree (ports, slots and replicas). */
function sameMasters(a: ClusterMaster[], b: ClusterMaster[]): boolean {
  const canonical = (masters: ClusterMaster[]) =>
    JSON.stringify(
      masters
        .map((m) => ({ ...m, replicaPorts: [...m.replicaPorts].sort((x, y) => x - y) }))
        .sort((x, y) => x.port - y.port),
    );
  return canonical(a) === canonical(b);
}

async function nodeFormed(port: number): Promise<boolean> {
  const redis = adminClient(`redis://127.0.0.1:${port}`);
  try {
    const info = await redis.cluster('INFO');
    if (!/cluster_state:ok/.test(String(info))) return false;
    const replication = await redis.info('replication');
    return !/role:slave/.test(replication) || /master_link_status:up/.test(replication);
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/** Masters (with slots) and their replicas, from the first live node that answers. */
async function readMasters(nodes: readonly RedisProcess[]): Promise<ClusterMaster[]> {
  for (const node of nodes) {
    const redis = adminClient(`redis://127.0.0.1:${node.port}`);
    try {
      const text = String(await redis.cluster('NODES'));
      return parseNodes(text);
    } catch {
      // try the next node
    } finally {
      redis.disconnect();
    }
  }
  throw new Error('no cluster node answered');
}

/** CLUSTER NODES: `<id> <ip:port@bus> <flags> <master id> ... <link> <slot ranges...>`. */
function parseNodes(text: string): ClusterMaster[] {
  const rows = text
    .trim()
    .split('\n')
    .map((line) => line.split(' '));
  const portOf = (address: string | undefined) => Number(/:(\d+)@/.exec(address ?? '')?.[1]);
  const masters = rows.filter(
    (r) => (r[2] ?? '').includes('master') && !(r[2] ?? '').includes('fail') && r.length > 8,
  );
  return masters.map((m) => ({
    port: portOf(m[1]),
    replicaPorts: rows
      .filter((r) => r[3] === m[0] && !(r[2] ?? '').includes('fail'))
      .map((r) => portOf(r[1])),
    slots: m.slice(8).flatMap((range): [number, number][] => {
      if (range.startsWith('[')) return [];
      const [from, to] = range.split('-').map(Number);
      return from === undefined ? [] : [[from, to ?? from]];
    }),
  }));
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
