import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { afterAll, beforeAll } from 'vitest';
import { requireDocker } from './docker';
import { freePort } from './free-port';
import { CONTAINER_HOOK_TIMEOUT_MS } from './redis-hooks';

const run = promisify(execFile);

/**
 * The PostgreSQL image: POSTGRES_IMAGE (vitest.shared.ts fills it from infra/.env, where offline
 * machines name the stand-in infra/offline-images.sh builds), else the official one.
 */
export function postgresImage(): string {
  return process.env.POSTGRES_IMAGE ?? 'postgres:15';
}

/** A throw-away PostgreSQL that a test can stop and start again (same port, same data). */
export interface TestPostgres {
  readonly url: string;
  readonly container: StartedTestContainer;
  /** One query on a connection of its own (closed after), for assertions. */
  query<T extends object>(sql: string, values?: unknown[]): Promise<T[]>;
  /** Stops the server (`docker stop`): connections are refused until `start`. */
  stop(): Promise<void>;
  /** Starts it again and resolves once it accepts queries. */
  start(): Promise<void>;
}

const USER = 'chat';
const PASSWORD = 'chat-test';
const DB = 'chat';

/**
 * PostgreSQL in Docker on a fixed free host port (so a stop and start keep the URL), fsync off
 * unless `durable` (tests do not need durability across host crashes; the bench measures with
 * the server's defaults). Resolves once it answers a query.
 */
export async function startPostgres({ durable = false } = {}): Promise<TestPostgres> {
  await requireDocker();
  const port = await freePort();
  const container = await new GenericContainer(postgresImage())
    .withEnvironment({ POSTGRES_USER: USER, POSTGRES_PASSWORD: PASSWORD, POSTGRES_DB: DB })
    .withCommand(
      durable ? ['postgres'] : ['postgres', '-c', 'fsync=off', '-c', 'synchronous_commit=off'],
    )
    .withExposedPorts({ container: 5432, host: port })
    .withHealthCheck({
      test: [
        'CMD-SHELL',
        `PGPASSWORD=${PASSWORD} psql -h 127.0.0.1 -U ${USER} -d ${DB} -c 'SELECT 1'`,
      ],
      interval: 500,
      timeout: 3_000,
      retries: 60,
    })
    .withWaitStrategy(Wait.forHealthCheck())
    .withStartupTimeout(120_000)
    .start();
  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DB}`;
  const query = async <T extends object>(sql: string, values: unknown[] = []) => {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
    await client.connect();
    try {
      return (await client.query<T>(sql, values)).rows;
    } finally {
      await client.end();
    }
  };
  return {
    url,
    container,
    query,
    async stop() {
      await run('docker', ['stop', '-t', '10', container.getId()]);
    },
    async start() {
      await run('docker', ['start', container.getId()]);
      for (let attempt = 0; ; attempt++) {
        try {
          await query('SELECT 1');
          return;
        } catch (error) {
          if (attempt > 200) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    },
  };
}

/** A PostgreSQL for the enclosing suite, started before its tests and removed after them. */
export function usePostgres(): () => TestPostgres {
  let started: TestPostgres | undefined;
  beforeAll(async () => {
    started = await startPostgres();
  }, CONTAINER_HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await started?.container.stop();
  }, CONTAINER_HOOK_TIMEOUT_MS);
  return () => {
    if (!started) throw new Error('PostgreSQL is not started yet');
    return started;
  };
}
