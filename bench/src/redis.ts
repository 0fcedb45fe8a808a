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
  command: string;
  payloadBytes: number;
  requestsPerSec: number;
}

/**
 * The broker's ceiling: `redis-benchmark` PUBLISHing `payloadBytes` to a channel nobody
 * subscribes to, pipelined 16 deep over 20 connections. No chat relay can push more messages
 * through this Redis than this.
 */
export function brokerCeiling(
  tools: RedisTools,
  port: number,
  payloadBytes: number,
  requests: number,
): Promise<BrokerCeiling> {
  const payload = 'x'.repeat(payloadBytes);
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
    '--csv',
    'publish',
    'bench#ceiling',
    payload,
  ];
  return new Promise((resolve, reject) => {
    execFile(tools.benchmark, args, { timeout: 60_000, maxBuffer: 1 << 20 }, (error, stdout) => {
      if (error) return reject(error);
      const last = stdout.trim().split('\n').at(-1) ?? '';
      const rps = Number(last.split('","')[1]);
      if (!Number.isFinite(rps))
        return reject(new Error(`unexpected redis-benchmark output: ${last.slice(0, 200)}`));
      resolve({
        command: `redis-benchmark -n ${requests} -c 20 -P 16 publish <channel> <${payloadBytes} B>`,
        payloadBytes,
        requestsPerSec: rps,
      });
    });
  });
}
