import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnGateway, type GatewayProcess } from '@chat/test-support';
import type { Broker } from './brokers/broker';
import { FaultProxy } from './proxy';

/** One gateway position: its current process (if up) and its proxy to the broker. */
interface Slot {
  index: number;
  generation: number;
  process: GatewayProcess | undefined;
  redisProxy: FaultProxy | undefined;
  /** A kill or restart is under way: no other gateway fault takes this slot meanwhile. */
  busy: boolean;
}

/**
 * The soak's gateways: `count` slots, each a real gateway process (from source, as
 * `npm run gateway` runs it) that faults kill and the fleet restarts under a new node id
 * (`g<slot>.<generation>`), behind its own proxy to the broker when the broker allows one.
 */
export class Fleet {
  private readonly slots: Slot[] = [];

  constructor(
    private readonly broker: Broker,
    count: number,
    private readonly env: Record<string, string>,
    private readonly logDir: string,
  ) {
    for (let index = 0; index < count; index++) {
      this.slots.push({
        index,
        generation: 0,
        process: undefined,
        redisProxy: undefined,
        busy: false,
      });
    }
  }

  get size(): number {
    return this.slots.length;
  }

  async start(): Promise<void> {
    for (const slot of this.slots) {
      if (this.broker.proxied) slot.redisProxy = await FaultProxy.start(() => this.broker.port());
    }
    await Promise.all(this.slots.map((slot) => this.launch(slot)));
  }

  /** The port clients' proxies forward to for `index` (undefined while it is down). */
  port(index: number): number | undefined {
    return this.slots[index]?.process?.port;
  }

  nodeId(index: number): string | undefined {
    return this.slots[index]?.process?.nodeId;
  }

  redisProxy(index: number): FaultProxy | undefined {
    return this.slots[index]?.redisProxy;
  }

  /** Slots with a running gateway and no fault of their own under way. */
  available(): number[] {
    return this.slots.filter((s) => !s.busy && s.process !== undefined).map((s) => s.index);
  }

  up(): number {
    return this.slots.filter((s) => s.process !== undefined).length;
  }

  /**
   * Ends the gateway in `index` with `signal` (SIGKILL: dies at once; SIGTERM: drains) and,
   * after `downMs`, starts a new one there. Resolves once the new one serves.
   */
  async cycle(index: number, signal: 'SIGKILL' | 'SIGTERM', downMs: number): Promise<void> {
    const slot = this.slots[index];
    const process = slot?.process;
    if (slot === undefined || process === undefined) return;
    slot.busy = true;
    try {
      process.kill(signal);
      await process.exited;
      this.keepLogs(process);
      slot.process = undefined;
      await new Promise((resolve) => setTimeout(resolve, downMs));
      await this.launch(slot);
    } finally {
      slot.busy = false;
    }
  }

  /** SIGKILLs every gateway at once, synchronously (the harness itself is being stopped). */
  abort(): void {
    for (const slot of this.slots) slot.process?.child.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.slots.map(async (slot) => {
        const process = slot.process;
        slot.process = undefined;
        if (process !== undefined) {
          await process.crash();
          this.keepLogs(process);
        }
        await slot.redisProxy?.close();
      }),
    );
  }

  private async launch(slot: Slot): Promise<void> {
    const nodeId = `g${slot.index}.${slot.generation++}`;
    const env = {
      ...this.env,
      ...this.broker.gatewayEnv(slot.redisProxy?.port),
      NODE_ID: nodeId,
    };
    // 'serving', not 'ready': a gateway restarted while Redis is down still starts, and the
    // soak wants it up (and its clients told UNAVAILABLE) rather than waiting.
    slot.process = await spawnGateway(env, { until: 'serving' });
  }

  private keepLogs(process: GatewayProcess): void {
    writeFileSync(join(this.logDir, `${process.nodeId}.log`), `${process.logs.join('\n')}\n`);
  }
}
