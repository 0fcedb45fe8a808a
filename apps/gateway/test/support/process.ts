import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { vi } from 'vitest';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** A gateway running as its own process, as in production, so it can be SIGKILLed. */
export interface GatewayProcess {
  child: ChildProcess;
  url: string;
  port: number;
  nodeId: string;
  /** The process' log lines so far (JSON), for assertions and for debugging failures. */
  logs: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * Starts `apps/gateway/src/main.ts` with `env`; resolves once /readyz answers 200 (or, with
 * `until: 'serving'`, once /healthz does: for gateways that cannot become ready).
 */
export async function spawnGateway(
  env: Record<string, string>,
  { until = 'ready' }: { until?: 'ready' | 'serving' } = {},
): Promise<GatewayProcess> {
  const port = await freePort();
  const nodeId = env.NODE_ID ?? `proc-${port}`;
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: ROOT,
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      RATE_PER_SEC: '100000',
      RATE_BURST: '100000',
      ...env,
      PORT: String(port),
      NODE_ID: nodeId,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const collect = (chunk: Buffer) => logs.push(...chunk.toString().split('\n').filter(Boolean));
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = `http://127.0.0.1:${port}`;
  const running: GatewayProcess = {
    child,
    url,
    port,
    nodeId,
    logs,
    exited,
    kill: (signal = 'SIGKILL') => {
      child.kill(signal);
    },
  };
  await vi.waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`gateway exited: ${logs.join('\n')}`);
      const response = await fetch(`${url}/${until === 'ready' ? 'readyz' : 'healthz'}`);
      if (response.status !== 200) throw new Error(`not ready: ${response.status}`);
    },
    { timeout: 30_000, interval: 100 },
  );
  return running;
}

export async function stopProcesses(processes: GatewayProcess[]): Promise<void> {
  for (const p of processes) if (p.child.exitCode === null && !p.child.killed) p.kill('SIGKILL');
  await Promise.all(processes.map((p) => p.exited));
}
