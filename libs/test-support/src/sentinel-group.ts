import {
  requireRedisBinaries,
  startRedisServer,
  startSentinel,
  type RedisProcess,
} from './redis-process';

/** How long the sentinels may take to find the replica and each other. @default 20_000 */
const DISCOVERY_TIMEOUT_MS = 20_000;

/** A promotion, as a sentinel announced it (`+switch-master <name> <old ip port> <new ip port>`). */
export interface Promotion {
  /** `Date.now()` when the test process read the announcement. */
  at: number;
  fromPort: number;
  toPort: number;
}

/** A master, one replica and three sentinels on loopback: a Sentinel group to fail over. */
export interface SentinelGroup {
  readonly masterName: string;
  readonly master: RedisProcess;
  readonly replica: RedisProcess;
  readonly sentinels: readonly RedisProcess[];
  /** The gateways' REDIS_SENTINELS value (`127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3`). */
  readonly sentinelsEnv: string;
  /** Resolves at the first `+switch-master` any sentinel announces after this call. */
  promoted(): Promise<Promotion>;
  /** Ends every process and removes their directories. */
  close(): Promise<void>;
}

export interface SentinelGroupOptions {
  /** @default 'mymaster' */
  masterName?: string;
  /** Password of master and replica (the sentinels get it as `auth-pass`). @default none */
  password?: string;
}

/**
 * Starts the group and resolves once it can fail over: the replica is in sync and every
 * sentinel has found the replica and the two other sentinels (sentinels find them through the
 * master, in seconds). Fails with a clear message when the binaries are missing.
 */
export async function startSentinelGroup(
  options: SentinelGroupOptions = {},
): Promise<SentinelGroup> {
  requireRedisBinaries();
  const masterName = options.masterName ?? 'mymaster';
  const { password } = options;
  const started: RedisProcess[] = [];
  const close = async () => {
    await Promise.all(started.map((p) => p.close()));
  };
  try {
    const master = await startRedisServer({ password });
    started.push(master);
    const replica = await startRedisServer({ replicaOf: master.port, password });
    started.push(replica);
    const sentinels = await Promise.all(
      [0, 1, 2].map(() => startSentinel({ masterName, masterPort: master.port, password })),
    );
    started.push(...sentinels);
    await Promise.all([
      waitForLine(replica, /MASTER <-> REPLICA sync: Finished with success/),
      ...sentinels.map((s) =>
        waitForLine(s, new RegExp(`\\+slave slave 127\\.0\\.0\\.1:${replica.port}`)),
      ),
      ...sentinels.map((s) => waitForLine(s, /\+sentinel sentinel/, 2)),
    ]);
    return {
      masterName,
      master,
      replica,
      sentinels,
      sentinelsEnv: sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
      promoted: () => promotion(sentinels, masterName),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

function promotion(sentinels: readonly RedisProcess[], masterName: string): Promise<Promotion> {
  const pattern = new RegExp(`\\+switch-master ${masterName} \\S+ (\\d+) \\S+ (\\d+)`);
  return new Promise((resolve) => {
    for (const sentinel of sentinels) {
      sentinel.onLine((line) => {
        const match = pattern.exec(line);
        if (match)
          resolve({ at: Date.now(), fromPort: Number(match[1]), toPort: Number(match[2]) });
      });
    }
  });
}

/** Resolves once `server` has logged `count` lines matching `pattern` (counting past ones). */
function waitForLine(server: RedisProcess, pattern: RegExp, count = 1): Promise<void> {
  let seen = server.logs.filter((line) => pattern.test(line)).length;
  if (seen >= count) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(
            `port ${server.port}: no ${count} x ${pattern} in ${DISCOVERY_TIMEOUT_MS} ms:\n${server.logs.join('\n')}`,
          ),
        ),
      DISCOVERY_TIMEOUT_MS,
    );
    server.onLine((line) => {
      if (pattern.test(line) && ++seen >= count) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}
