import type { Bundles } from './build';
import {
  startCluster,
  takesBatches,
  type ClusterEnv,
  type ServerProc,
  type SystemName,
} from './cluster';
import { sampleProc } from './proc-stats';
import { Fleet } from './fleet';
import { say } from './out';
import { makePlan, type PlanOptions } from './plan';
import type { RedisServer } from './redis';
import { runStep, type StepContext, type StepOptions, type StepResult, type Timing } from './step';

/** What every scenario shares: the bundles, the one Redis, where logs go, the sizes. */
export interface BenchEnv {
  root: string;
  bundles: Bundles;
  redis: RedisServer;
  logDir: string;
  runId: string;
  generators: number;
  textBytes: number;
  /** Client implementation in the generators. */
  client: 'raw' | 'socket.io';
  profile?: ClusterEnv['profile'];
  gatewayEnv?: ClusterEnv['gatewayEnv'];
}

export type Layout = Omit<PlanOptions, 'generators'>;

/**
 * One system under test, running with its clients connected: the servers, the load
 * generators holding the clients, and the plan that placed them.
 */
/** How the clients connected: time, and each server's RSS just before and after. */
export interface Connected {
  ms: number;
  clients: number;
  rssKbBefore: number[];
  rssKbAfter: number[];
}

/** Clients connecting at once per generator, and how long all may take. */
export interface ConnectOptions {
  concurrency?: number;
  timeoutMs?: number;
}

function rssKb(servers: ServerProc[]): number[] {
  return servers.map((s) => sampleProc(s.proc.pid)?.rssKb ?? Number.NaN);
}

export class Session {
  private constructor(
    readonly system: SystemName,
    private ctx: StepContext,
    private readonly env: BenchEnv,
    private readonly layout: Layout,
    readonly connected: Connected,
    private readonly connectOptions: ConnectOptions,
  ) {}

  static async open(
    system: SystemName,
    scenario: string,
    layout: Layout,
    timing: Timing,
    env: BenchEnv,
    connectOptions: ConnectOptions = {},
  ): Promise<Session> {
    const cluster = await startCluster(system, layout.nodes, env);
    const fleet = Fleet.start(
      env.generators,
      env.bundles.generator,
      env.logDir,
      `${scenario}-${system}`,
    );
    try {
      const plan = makePlan(
        {
          ...layout,
          nodes: cluster.servers.length,
          generators: env.generators,
          batch: takesBatches(system),
        },
        cluster.servers.map((s) => s.url),
      );
      const rssKbBefore = rssKb(cluster.servers);
      const connectMs = await fleet.connect(
        plan,
        env.client,
        connectOptions.concurrency,
        connectOptions.timeoutMs,
      );
      say(
        `  ${system}: ${cluster.servers.length} node(s), ${plan.clients.length} clients connected in ${connectMs} ms`,
      );
      return new Session(
        system,
        { scenario, cluster, fleet, plan, timing, textBytes: env.textBytes },
        env,
        layout,
        {
          ms: connectMs,
          clients: plan.clients.length,
          rssKbBefore,
          rssKbAfter: rssKb(cluster.servers),
        },
        connectOptions,
      );
    } catch (error) {
      await fleet.close();
      await cluster.stop();
      throw error;
    }
  }

  get nodes(): number {
    return this.ctx.cluster.servers.length;
  }

  /** The servers' base URLs, node 0 first. */
  get urls(): string[] {
    return this.ctx.cluster.servers.map((s) => s.url);
  }

  get plan(): StepContext['plan'] {
    return this.ctx.plan;
  }

  get servers(): ServerProc[] {
    return this.ctx.cluster.servers;
  }

  get fleet(): StepContext['fleet'] {
    return this.ctx.fleet;
  }

  step(rate: number, options: StepOptions = {}): Promise<StepResult> {
    return runStep(this.ctx, rate, options);
  }

  /** Slow clients read again (S4); resolves to how many the servers had dropped. */
  resumeSlow(): Promise<{ slow: number; dropped: number }> {
    return this.ctx.fleet.resumeSlow();
  }

  async close(): Promise<void> {
    await this.ctx.fleet.close();
    await this.ctx.cluster.stop();
  }

  /** A fresh instance (after a step that left a backlog or dropped clients). */
  async restart(): Promise<void> {
    await this.close();
    const fresh = await Session.open(
      this.system,
      this.ctx.scenario,
      this.layout,
      this.ctx.timing,
      this.env,
      this.connectOptions,
    );
    this.ctx = fresh.ctx;
  }
}
