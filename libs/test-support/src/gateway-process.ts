import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port';

/** The workspace root: gateways run from there, as `npm run gateway` runs them. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** Started from source with tsx (which takes `@chat/protocol` from the root tsconfig.json). */
const MAIN = 'apps/gateway/src/main.ts';

/** How long a gateway may take to answer /readyz 200: tsx compiles it first, on a busy box. */
const READY_TIMEOUT_MS = 30_000;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A real gateway running as its own process, as in production, so it can be signalled. */
export interface GatewayProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly port: number;
  readonly nodeId: string;
  /** Its stdout and stderr lines so far (JSON log lines), for assertions and failure messages. */
  readonly logs: readonly string[];
  /** Settles once the process has ended, however it ended. */
  readonly exited: Promise<Exit>;
  /** Sends `signal` (default SIGKILL) and returns at once; await `exited` to see the end. */
  kill(signal?: NodeJS.Signals): void;
  /** SIGTERM (a graceful drain), then waits for the process to end. */
  stop(): Promise<Exit>;
  /** SIGKILL: the node dies without a word; waits for the process to end. */
  crash(): Promise<Exit>;
}

/**
 * Starts `apps/gateway/src/main.ts` on a free port (or `port`: a node restarted where its
 * clients will look for it) with `env` on top of this process' env and
 * test defaults (loopback, `info` logs, a rate limit no test meets). PORT is always the chosen
 * port; NODE_ID defaults to `proc-<port>`. Resolves once /readyz answers 200 (for a Redis
 * gateway: connected, its canary seen), or with `until: 'serving'` once /healthz does (for a
 * gateway that cannot become ready); rejects with the logs if it exits or does not get there in
 * 30 s, and then leaves no process behind.
 */
export async function spawnGateway(
  env: Record<string, string> = {},
  { until = 'ready', port: fixed }: { until?: 'ready' | 'serving'; port?: number } = {},
): Promise<GatewayProcess> {
  const port = fixed ?? (await freePort());
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
  child.stdout?.on('data', lineSplitter(logs));
  child.stderr?.on('data', lineSplitter(logs));
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const signal = async (name: NodeJS.Signals): Promise<Exit> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(name);
    return exited;
  };
  const gateway: GatewayProcess = {
    child,
    url: `http://127.0.0.1:${port}`,
    port,
    nodeId,
    logs,
    exited,
    kill: (name = 'SIGKILL') => void child.kill(name),
    stop: () => signal('SIGTERM'),
    crash: () => signal('SIGKILL'),
  };
  try {
    await waitReady(gateway, until === 'ready' ? 'readyz' : 'healthz');
  } catch (error) {
    await gateway.crash();
    throw error;
  }
  return gateway;
}

/** Polls `path` until 200; fails early, with the logs, if the process ends first. */
async function waitReady(gateway: GatewayProcess, path: 'readyz' | 'healthz'): Promise<void> {
  let ended = false;
  void gateway.exited.then(() => (ended = true));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = 'no answer';
  while (!ended) {
    try {
      const response = await fetch(`${gateway.url}/${path}`, {
        signal: AbortSignal.timeout(1_000),
      });
      if (response.status === 200) return;
      last = `${path} ${response.status}: ${await response.text()}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline) {
      throw new Error(
        `gateway ${gateway.nodeId} not ready after ${READY_TIMEOUT_MS} ms (${last}):\n${gateway.logs.join('\n')}`,
      );
    }
    await sleep(100);
  }
  throw new Error(`gateway ${gateway.nodeId} exited during start-up:\n${gateway.logs.join('\n')}`);
}

/** Appends complete lines to `into`; a line split across chunks is kept until it ends. */
function lineSplitter(into: string[]): (chunk: Buffer) => void {
  let partial = '';
  return (chunk) => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    into.push(...parts.filter(Boolean));
  };
}

/**
 * Cleanup: SIGKILLs every process in `gateways` that is still running and waits until all have
 * ended. Safe on processes a test already stopped or crashed.
 */
export async function stopProcesses(gateways: readonly GatewayProcess[]): Promise<void> {
  await Promise.all(gateways.map((gateway) => gateway.crash()));
}
