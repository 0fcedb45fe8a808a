import { execFile, execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { sleep } from './clock';
import { say } from './out';
import { spawnProc, stopProc, type Proc } from './procs';

const INSTALL_HINT =
  'install them with `sudo apt-get install -y redis-server redis-tools` (Debian/Ubuntu), ' +
  'or rerun as root so the harness can install them itself';

export function findBinary(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (!dir) continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // Not here.
    }
  }
  for (const dir of ['/usr/bin', '/usr/local/bin', '/usr/sbin']) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // Not here either.
    }
  }
  return undefined;
}

export interface RedisTools {
  server: string;
  benchmark: string;
}

/**
 * The Redis binaries, installed from the distribution's packages when missing and the harness
 * runs as root with apt-get (CI machines); otherwise a clear instruction.
 */
export function ensureRedisTools(log: string): RedisTools {
  let server = findBinary('redis-server');
  let benchmark = findBinary('redis-benchmark');
  if (server && benchmark) return { server, benchmark };
  const apt = findBinary('apt-get');
  if (process.getuid?.() !== 0 || !apt) {
    throw new Error(`redis-server and redis-benchmark are needed but not found: ${INSTALL_HINT}`);
  }
  say(
    'redis-server/redis-benchmark not found: installing redis-server and redis-tools with apt-get',
  );
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const options = { env, stdio: 'ignore' as const, timeout: 300_000 };
  try {
    execFileSync(apt, ['update', '-qq'], options);
    execFileSync(
      apt,
      ['install', '-y', '-qq', '--no-install-recommends', 'redis-server', 'redis-tools'],
      options,
    );
  } catch (error) {
    throw new Error(
      `apt-get could not install redis-server/redis-tools (${String(error)}); see ${log}`,
    );
  }
  server = findBinary('redis-server');
  benchmark = findBinary('redis-benchmark');
  if (!server || !benchmark)
    throw new Error(`redis tools still missing after apt-get: ${INSTALL_HINT}`);
  return { server, benchmark };
}

export interface RedisServer {
  proc: Proc;
  port: number;
  url: string;
  version: string;
  stop(): Promise<void>;
}

/** A throw-away Redis on loopback: no persistence, nothing shared with any other Redis. */
export async function startRedis(
  tools: RedisTools,
  port: number,
  log: string,
): Promise<RedisServer> {
  const proc = spawnProc(
    'redis',
    tools.server,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
      '--loglevel',
      'warning',
      '--maxclients',
      '4096',
    ],
    { log },
  );
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const client = new Redis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const info = await client.info('server');
      const version = info.match(/redis_version:(\S+)/)?.[1] ?? 'unknown';
      client.disconnect();
      return { proc, port, url, version, stop: () => stopProc(proc, 1_000) };
    } catch (error) {
      client.disconnect();
      if (Date.now() > deadline)
        throw new Error(`redis-server did not start on ${port}: ${String(error)}; see ${log}`);
      await sleep(100);
    }
  }
}

/** Sharded pub/sub (SPUBLISH), which the sharded adapter needs, came with Redis 7.0. */
export function supportsSharded(version: string): boolean {
  return Number(version.split('.')[0]) >= 7;
}

export interface BrokerCeiling {
  /** What was measured: `publish`, `xadd` or `append` (our store-and-publish script). */
  name: string;
  command: string;
  payloadBytes: number;
  requestsPerSec: number;
}

/** A redis-benchmark run: its name, the command line shown, and the arguments after the flags. */
interface CeilingCommand {
  name: string;
  shown: string;
  args: string[];
}

function runBenchmark(
  tools: RedisTools,
  port: number,
  requests: number,
  command: CeilingCommand,
  payloadBytes: number,
): Promise<BrokerCeiling> {
  const args = [
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    '-n',
    String(requests),
    '-c',
    '20',
    '-P',
    '16',
    '-r',
    '100000000',
    '--csv',
    ...command.args,
  ];
  return new Promise((resolve, reject) => {
    execFile(tools.benchmark, args, { timeout: 60_000, maxBuffer: 1 << 20 }, (error, stdout) => {
      if (error) return reject(error);
      const last = stdout.trim().split('\n').at(-1) ?? '';
      const rps = Number(last.split('","')[1]);
      if (!Number.isFinite(rps))
        return reject(new Error(`unexpected redis-benchmark output: ${last.slice(0, 200)}`));
      resolve({
        name: command.name,
        command: `redis-benchmark -n ${requests} -c 20 -P 16 ${command.shown}`,
        payloadBytes,
        requestsPerSec: rps,
      });
    });
  });
}

/** The room log's bounds of the gateway's defaults (HISTORY_LIMIT, MAX_ROOM_KB, ROOM_TTL_S). */
const LOG_LIMIT = 1_000;
const LOG_BYTES = 1_024 * 1_024;
const ROOM_TTL_MS = 604_800_000;

/**
 * A script's `KEYS` and `ARGV` from values by name, in the order its header declares them
 * (`local <name> = KEYS[i]`, as every gateway script opens); a name without a value throws.
 */
export function scriptArgs(
  source: string,
  values: Record<string, string>,
): { keys: string[]; argv: string[] } {
  const keys: string[] = [];
  const argv: string[] = [];
  for (const [, name = '', kind, index] of source.matchAll(
    /^local (\w+) = (KEYS|ARGV)\[(\d+)\]$/gm,
  )) {
    const value = values[name];
    if (value === undefined)
      throw new Error(`no value for the script's ${kind}[${index}] (${name})`);
    (kind === 'KEYS' ? keys : argv)[Number(index) - 1] = value;
  }
  return { keys, argv };
}

/**
 * The broker-ceiling step's KEYS and ARGV for the gateway's APPEND (a user rate limit, no client
 * id, `payload` as the draft). Throws when APPEND declares a name this does not give a value.
 */
export function ceilingArgs(
  appendSource: string,
  payload: string,
): { keys: string[]; argv: string[] } {
  return scriptArgs(appendSource, {
    seq_counter: 'ceiling:seq',
    log: 'ceiling:log',
    log_bytes: 'ceiling:log-bytes',
    room_index: 'ceiling:rooms',
    cid_key: 'ceiling:cid',
    bucket: 'ceiling:bucket',
    address_bucket: 'ceiling:address',
    epoch_key: 'ceiling:epoch',
    node_mark: 'ceiling:node-mark',
    settle: 'ceiling:settle',
    cluster_epoch: 'ceiling:cluster-epoch',
    channel: 'ceiling#room',
    room: 'ceiling',
    publish: 'PUBLISH',
    use_room_index: '1',
    draft: payload,
    max_len: String(LOG_LIMIT),
    max_bytes: String(LOG_BYTES),
    max_rooms: '10000',
    room_ttl_ms: String(ROOM_TTL_MS),
    use_cid: '0',
    message_id: 'id',
    cid_ttl_ms: '60000',
    use_limit: '1',
    per_second: '1000000000',
    burst: '1000000000',
    use_address_limit: '0',
    address_per_second: '0',
    address_burst: '0',
    floor: '0',
    fresh_epoch: 'ceiling-epoch',
    // The fence as on one Redis (the settle window looked up), without a node mark to compare.
    use_fence: '1',
    mark: '',
  });
}

/**
 * The broker's ceiling for one room, pipelined 16 deep over 20 connections, nobody subscribed:
 * a bare `PUBLISH` of `payloadBytes`, a bare `XADD` to a stream capped at the gateway's default
 * history length, and our store-and-publish script (`appendSource`: the gateway's APPEND, with a
 * user rate limit, no client id), which does both and keeps the log bounded. The gap between
 * the script and PUBLISH + XADD is what storing every message costs Redis beyond the two.
 */
export async function brokerCeiling(
  tools: RedisTools,
  port: number,
  payloadBytes: number,
  requests: number,
  appendSource: string,
): Promise<BrokerCeiling[]> {
  const payload = 'x'.repeat(payloadBytes);
  const redis = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 });
  let sha: string;
  try {
    sha = String(await redis.script('LOAD', appendSource));
  } finally {
    redis.disconnect();
  }
  const { keys, argv } = ceilingArgs(appendSource, payload);
  const commands: CeilingCommand[] = [
    {
      name: 'publish',
      shown: `publish <channel> <${payloadBytes} B>`,
      args: ['publish', 'bench#ceiling', payload],
    },
    {
      name: 'xadd',
      shown: `xadd <stream> MAXLEN ${LOG_LIMIT} * e <${payloadBytes} B>`,
      args: ['xadd', 'bench#ceiling-log', 'MAXLEN', String(LOG_LIMIT), '*', 'e', payload],
    },
    {
      name: 'append',
      shown: `evalsha <APPEND> (store and publish, ${payloadBytes} B)`,
      args: ['evalsha', sha, String(keys.length), ...keys, ...argv],
    },
  ];
  const results: BrokerCeiling[] = [];
  for (const command of commands)
    results.push(await runBenchmark(tools, port, requests, command, payloadBytes));
  return results;
}
