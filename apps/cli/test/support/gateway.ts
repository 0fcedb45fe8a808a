import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { vi } from 'vitest';
import { ROOT } from './cli';

/** A real gateway (apps/gateway) running as its own process, as `npm run gateway` runs it. */
export interface GatewayProcess {
  readonly url: string;
  readonly nodeId: string;
  /** What it wrote to stderr and stdout, for failure messages. */
  readonly log: () => string;
  /** SIGTERM (a graceful drain), then waits for the process to end. */
  stop(): Promise<void>;
  /** SIGKILL: the node dies without a word; waits for the process to end. */
  crash(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

export async function startGateway(nodeId: string, redisUrl: string): Promise<GatewayProcess> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'apps/gateway/src/main.ts'],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        NODE_ID: nodeId,
        REDIS_URL: redisUrl,
        LOG_LEVEL: 'warn',
        DRAIN_TIMEOUT_MS: '2000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let log = '';
  child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  await vi.waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`gateway ${nodeId} exited:\n${log}`);
      const res = await fetch(`${url}/readyz`);
      if (res.status !== 200) throw new Error(`gateway ${nodeId} not ready: ${await res.text()}`);
    },
    { timeout: 30_000, interval: 100 },
  );
  return {
    url,
    nodeId,
    log: () => log,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
    async crash() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
