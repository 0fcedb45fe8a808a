import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';
import type { Exit } from './gateway-process';

/** What a test says when Debian's Redis binaries are missing: how to get them. */
export const NO_REDIS_BINARIES_MESSAGE =
  'redis-server and redis-sentinel are not installed: these tests run them as processes. On Debian: `sudo apt-get install -y redis-server redis-sentinel` (.ci/run installs them).';

/** How long a Redis or Sentinel process may take to say it is ready. @default 10_000 */
const READY_TIMEOUT_MS = 10_000;

/** Fails with NO_REDIS_BINARIES_MESSAGE unless redis-server, redis-sentinel and redis-cli run. */
export function requireRedisBinaries(): void {
  for (const binary of ['redis-server', 'redis-sentinel', 'redis-cli']) {
    const probe = spawnSync(binary, ['--version'], { stdio: 'ignore' });
    if (probe.error !== undefined || probe.status !== 0) {
      throw new Error(NO_REDIS_BINARIES_MESSAGE, { cause: probe.error });
    }
  }
}

/** A redis-server or redis-sentinel process on 127.0.0.1, with its own scratch directory. */
export interface RedisProcess {
  readonly child: ChildProcess;
  readonly port: number;
  /** `redis://127.0.0.1:<port>` (without a password). */
  readonly url: string;
  /** Its working directory (RDB snapshot and append-only files live here). */
  readonly dir: string;
  /** Its log lines so far. */
  readonly logs: readonly string[];
  readonly exited: Promise<Exit>;
  /** Calls `listener` with every log line from now on (e.g. to time `+switch-master`). */
  onLine(listener: (line: string) => void): void;
  /** SIGKILL: the server dies without saving or telling anyone; waits for the end. */
  crash(): Promise<Exit>;
  /** Ends the process (SIGKILL, nothing to keep) and removes its directory (unless the caller owns it). */
  close(): Promise<void>;
}

export interface RedisServerOptions {
  /** Replicate from the master on this port. @default a master */
  replicaOf?: number;
  /** `requirepass` and `masterauth`. @default none */
  password?: string;
  /** Listen here (a restart on the same address). @default a free port */
  port?: number;
  /**
   * A Redis Cluster node (`cluster-enabled yes`) that gives up on a silent peer after this
   * many ms; its bus port is port + 10000. @default not a cluster node
   */
  clusterNodeTimeoutMs?: number;
  /**
   * Work in this directory, which the caller owns (kept on close): a restart finds the data the
   * last process left there. @default a fresh directory, removed on close
   */
  dir?: string;
  /**
   * Keep an append-only file, written before each write is answered (`appendfsync always`): a
   * SIGKILL loses nothing. @default false
   */
  appendOnly?: boolean;
}

/** A redis-server without persistence on a free loopback port, once it accepts connections. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisProcess> {
  const port = options.port ?? (await freePort());
  const appendOnly = options.appendOnly === true ? 'yes' : 'no';
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    appendOnly,
  ];
  if (options.appendOnly === true) args.push('--appendfsync', 'always');
  if (options.replicaOf !== undefined) {
    args.push('--replicaof', '127.0.0.1', String(options.replicaOf));
  }
  if (options.password !== undefined) {
    args.push('--requirepass', options.password, '--masterauth', options.password);
  }
  if (options.clusterNodeTimeoutMs !== undefined) {
    args.push(
      '--cluster-enabled',
      'yes',
      '--cluster-node-timeout',
      String(options.clusterNodeTimeoutMs),
      '--cluster-config-file',
      'nodes.conf',
      // A node back after a kill syncs at once instead of after the default 5-s wait for
      // more replicas to share the transfer.
      '--repl-diskless-sync-delay',
      '0',
    );
  }
  return launch(
    'redis-server',
    port,
    (dir) => [...args, '--dir', dir],
    /Ready to accept/,
    options.dir,
  );
}

export interface SentinelOptions {
  /** @default 'mymaster' */
  masterName?: string;
  masterPort: number;
  /** Sentinels that must agree the master is down. @default 2 */
  quorum?: number;
  /** Silence after which this sentinel thinks the master is down. @default 1_000 */
  downAfterMs?: number;
  /** @default 5_000 */
  failoverTimeoutMs?: number;
  /** The data nodes' password (`sentinel auth-pass`). @default none */
  password?: string;
}

/**
 * A redis-sentinel watching the master on `masterPort`, once it monitors it. Sentinel rewrites
 * its configuration file, so each gets one in its own directory.
 */
export async function startSentinel(options: SentinelOptions): Promise<RedisProcess> {
  const port = await freePort();
  const name = options.masterName ?? 'mymaster';
  const lines = [
    `port ${port}`,
    'bind 127.0.0.1',
    'daemonize no',
    `sentinel monitor ${name} 127.0.0.1 ${options.masterPort} ${options.quorum ?? 2}`,
    `sentinel down-after-milliseconds ${name} ${options.downAfterMs ?? 1_000}`,
    `sentinel failover-timeout ${name} ${options.failoverTimeoutMs ?? 5_000}`,
    `sentinel parallel-syncs ${name} 1`,
    ...(options.password === undefined ? [] : [`sentinel auth-pass ${name} ${options.password}`]),
  ];
  return launch(
    'redis-sentinel',
    port,
    (dir) => {
      const file = join(dir, 'sentinel.conf');
      writeFileSync(file, `${lines.join('\n')}\n`);
      return [file];
    },
    /\+monitor master/,
  );
}

async function launch(
  binary: string,
  port: number,
  args: (dir: string) => string[],
  ready: RegExp,
  ownDir?: string,
): Promise<RedisProcess> {
  const dir = ownDir ?? mkdtempSync(join(tmpdir(), `${binary}-${port}-`));
  const child = spawn(binary, args(dir), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  const listeners: ((line: string) => void)[] = [];
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let rest = '';
  const onData = (chunk: Buffer) => {
    const parts = (rest + chunk.toString()).split('\n');
    rest = parts.pop() ?? '';
    for (const line of parts) {
      logs.push(line);
      for (const listener of listeners) listener(line);
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const crash = async (): Promise<Exit> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    return exited;
  };
  const server: RedisProcess = {
    child,
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    logs,
    exited,
    onLine: (listener) => void listeners.push(listener),
    crash,
    async close() {
      await crash();
      if (ownDir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${binary} on port ${port} not ready in ${READY_TIMEOUT_MS} ms`)),
        READY_TIMEOUT_MS,
      );
      const settle = (error?: Error) => {
        clearTimeout(timer);
        if (error === undefined) resolve();
        else reject(error);
      };
      if (logs.some((line) => ready.test(line))) settle();
      server.onLine((line) => ready.test(line) && settle());
      void exited.then((exit) =>
        settle(new Error(`${binary} exited (${JSON.stringify(exit)}): ${logs.join('\n')}`)),
      );
    });
  } catch (error) {
    await server.close();
    throw error;
  }
  return server;
}
