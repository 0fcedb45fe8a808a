import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startRedisServer, type RedisProcess } from '@chat/test-support';
import type { Redis } from 'ioredis';
import { withAdmin } from './admin';
import type { Rng } from '../rng';
import type { Broker, BrokerFault } from './broker';

/** Snapshots kept for `redis-old`, one every few seconds. */
const SNAPSHOTS = 6;

/**
 * One redis-server process with an append-only file, in a directory of the run's own, always
 * on the same port. Gateways reach it through their proxies (`proxied`).
 */
export class SingleRedis implements Broker {
  readonly name = 'single';
  readonly faults: readonly BrokerFault[] = [
    'redis-kill',
    'redis-restart',
    'redis-empty',
    'redis-old',
  ];
  readonly proxied = true;
  private server: RedisProcess | undefined;
  private serverPort = 0;
  private readonly dataDir: string;
  private readonly snapshotDir: string;
  private readonly snapshots: string[] = [];
  private snapshotCount = 0;

  constructor(dir: string) {
    this.dataDir = join(dir, 'redis');
    this.snapshotDir = join(dir, 'snapshots');
    mkdirSync(this.dataDir, { recursive: true });
    mkdirSync(this.snapshotDir, { recursive: true });
  }

  async start(): Promise<void> {
    this.server = await startRedisServer({ dir: this.dataDir, appendOnly: true });
    this.serverPort = this.server.port;
  }

  port(): number | undefined {
    return this.server === undefined ? undefined : this.serverPort;
  }

  gatewayEnv(proxyPort: number | undefined): Record<string, string> {
    return { REDIS_URL: `redis://127.0.0.1:${proxyPort ?? this.serverPort}` };
  }

  async fault(kind: BrokerFault, rng: Rng, begin: () => void): Promise<string> {
    const server = this.server;
    if (server === undefined) throw new Error('redis is not running');
    const downMs = rng.int(200, 2_000);
    begin();
    if (kind === 'redis-restart') {
      // The server closes the connection as it goes: no reply is the expected answer.
      await this.command((redis) => redis.call('SHUTDOWN')).catch(() => undefined);
      await Promise.race([server.exited, sleep(5_000)]);
    }
    this.server = undefined;
    await server.close();
    await sleep(downMs);
    let detail = `down ${downMs} ms`;
    if (kind === 'redis-empty') this.clearData();
    if (kind === 'redis-old') {
      const snapshot = this.snapshots[rng.int(0, Math.max(0, this.snapshots.length - 2))];
      this.clearData();
      if (snapshot !== undefined) copyFileSync(snapshot, join(this.dataDir, 'dump.rdb'));
      detail += `, from ${snapshot ?? 'nothing (no snapshot yet)'}`;
    }
    const fromRdb = kind === 'redis-old';
    this.server = await startRedisServer({
      dir: this.dataDir,
      port: this.serverPort,
      appendOnly: !fromRdb,
    });
    // Loaded from the snapshot: keep an append-only file from here on, like the others.
    if (fromRdb) {
      await this.command(async (redis) => {
        await redis.config('SET', 'appendfsync', 'always');
        await redis.config('SET', 'appendonly', 'yes');
      });
    }
    return detail;
  }

  async snapshot(): Promise<void> {
    if (this.server === undefined) return;
    const saved = await this.command((redis) => redis.call('SAVE')).then(
      () => true,
      () => false,
    );
    const dump = join(this.dataDir, 'dump.rdb');
    if (!saved || !existsSync(dump)) return;
    const file = join(this.snapshotDir, `${++this.snapshotCount}.rdb`);
    copyFileSync(dump, file);
    this.snapshots.push(file);
    if (this.snapshots.length > SNAPSHOTS) rmSync(this.snapshots.shift() ?? '', { force: true });
  }

  async stop(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }

  abort(): void {
    this.server?.child.kill('SIGKILL');
  }

  private clearData(): void {
    rmSync(this.dataDir, { recursive: true, force: true });
    mkdirSync(this.dataDir, { recursive: true });
  }

  private command<T>(run: (redis: Redis) => Promise<T>): Promise<T> {
    return withAdmin(this.serverPort, run);
  }
}
