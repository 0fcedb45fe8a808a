import { freePort, requireDocker } from '@chat/test-support';
import { afterAll, afterEach, beforeAll, vi } from 'vitest';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

/** infra/, where docker-compose.yml and its .env live. */
export const INFRA_DIR = fileURLToPath(new URL('../..', import.meta.url));

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; the error carries its output, so a failure explains itself. */
export function run(
  file: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      {
        cwd: INFRA_DIR,
        env: options.env ?? process.env,
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error) {
          const tail = `${stdout}\n${stderr}`.trim().split('\n').slice(-30).join('\n');
          reject(new Error(`${file} ${args.join(' ')} failed: ${error.message}\n${tail}`));
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
  });
}

/** `docker compose` (v2) when the plugin is installed, else the standalone `docker-compose`. */
async function composeCommand(): Promise<[string, ...string[]]> {
  try {
    await run('docker', ['compose', 'version'], { timeoutMs: 20_000 });
    return ['docker', 'compose'];
  } catch {
    try {
      await run('docker-compose', ['version'], { timeoutMs: 20_000 });
      return ['docker-compose'];
    } catch {
      throw new Error(
        'Neither `docker compose` nor `docker-compose` works: install Compose (on Debian: `apt-get install docker-compose`).',
      );
    }
  }
}

/**
 * One compose project from infra/docker-compose.yml under a unique name, so it never touches a
 * cluster someone started by hand or another test run. Image names come from the environment
 * (vitest.shared.ts fills them from infra/.env); `vars` add to or override it.
 */
export class ComposeProject {
  readonly name = `chate2e${randomBytes(4).toString('hex')}`;

  private constructor(
    private readonly command: [string, ...string[]],
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  static async create(vars: Record<string, string>): Promise<ComposeProject> {
    await requireDocker();
    return new ComposeProject(await composeCommand(), { ...process.env, ...vars });
  }

  /**
   * Builds the gateway image, starts the stack with `gateways` gateways and resolves once the
   * balancer (on a free port: `url`) has answered ready from that many distinct gateways.
   */
  static async up(
    vars: Record<string, string>,
    gateways: number,
  ): Promise<{ project: ComposeProject; url: string }> {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const project = await ComposeProject.create({ ...vars, CHAT_PORT: String(port) });
    await project.compose(['build', 'gateway'], 280_000);
    await project.compose(['up', '-d', '--scale', `gateway=${gateways}`], 180_000);
    const nodes = new Set<string>();
    await vi.waitFor(
      async () => {
        const res = await fetch(`${url}/readyz`);
        const body = (await res.json()) as { ready?: boolean; node?: string };
        if (res.ok && body.ready && body.node !== undefined) nodes.add(body.node);
        if (nodes.size < gateways) throw new Error(`${nodes.size} of ${gateways} gateways ready`);
      },
      { timeout: 90_000, interval: 100 },
    );
    return { project, url };
  }

  /** `compose -p <name> -f docker-compose.yml <args>`. */
  compose(args: readonly string[], timeoutMs = 120_000): Promise<RunResult> {
    const [file, ...prefix] = this.command;
    return run(file, [...prefix, '-p', this.name, '-f', 'docker-compose.yml', ...args], {
      env: this.env,
      timeoutMs,
    });
  }

  /** The running containers of a service: id and host name (a gateway's NODE_ID starts with it). */
  async containers(service: string): Promise<{ id: string; hostname: string }[]> {
    const ids = (await this.compose(['ps', '-q', service])).stdout.split('\n').filter(Boolean);
    if (ids.length === 0) return [];
    const { stdout } = await run('docker', [
      'inspect',
      '--format',
      '{{.Id}} {{.Config.Hostname}} {{.State.Running}}',
      ...ids,
    ]);
    return stdout
      .split('\n')
      .map((line) => line.split(' '))
      .filter(([, , running]) => running === 'true')
      .map(([id = '', hostname = '']) => ({ id, hostname }));
  }

  /** The container holding gateway node `nodeId` (NODE_ID is `<host name>-<suffix>`). */
  async gatewayOf(nodeId: string): Promise<string> {
    const match = (await this.containers('gateway')).find((c) =>
      nodeId.startsWith(`${c.hostname}-`),
    );
    if (match === undefined) throw new Error(`no running gateway container for node ${nodeId}`);
    return match.id;
  }

  /** SIGKILL: an unclean death, no drain. */
  async kill(containerId: string): Promise<void> {
    await run('docker', ['kill', containerId]);
  }

  async logs(tail = 40): Promise<string> {
    const { stdout, stderr } = await this.compose(['logs', '--no-color', '--tail', String(tail)]);
    return stdout + stderr;
  }

  /** Removes containers, network and volumes; the gateway image stays for the next build. */
  async down(): Promise<void> {
    await this.compose(['down', '-v', '--remove-orphans', '-t', '2']);
  }
}

/** A suite's compose stack with a profile (see useProfileStack). */
export interface ProfileStack {
  readonly project: ComposeProject;
  /** The balancer. */
  readonly url: string;
  /** Closed before the stack goes down. */
  readonly closeLater: { close(): void }[];
}

/**
 * The stack with `COMPOSE_PROFILES=profile` and `gateways` gateways (image `image`) for the
 * enclosing suite: up before its tests (ComposeProject.up), its logs printed after a failed
 * test, `closeLater` closed and the stack down after them.
 */
export function useProfileStack(profile: string, image: string, gateways: number): ProfileStack {
  let started: { project: ComposeProject; url: string } | undefined;
  const closeLater: { close(): void }[] = [];
  beforeAll(async () => {
    // Compose 1.28+ and v2 read the active profiles from here, for every command (down too).
    const vars = { COMPOSE_PROFILES: profile, GATEWAY_IMAGE: image, LOG_LEVEL: 'warn' };
    started = await ComposeProject.up({ ...vars, AUTH_SECRET: '' }, gateways);
  });
  afterEach(async (context) => {
    if (context.task.result?.state === 'fail' && started !== undefined) {
      const { project } = started;
      process.stderr.write(`--- compose logs (${project.name}) ---\n${await project.logs()}\n`);
    }
  });
  afterAll(async () => {
    for (const item of closeLater) item.close();
    await started?.project.down();
  });
  const get = () => {
    if (started === undefined) throw new Error(`the compose stack (${profile}) did not start`);
    return started;
  };
  return {
    get project() {
      return get().project;
    },
    get url() {
      return get().url;
    },
    closeLater,
  };
}
