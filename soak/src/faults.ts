import type { Actor } from './actor';
import { FaultNotNow, type Broker, type BrokerFault } from './brokers/broker';
import type { Fleet } from './fleet';
import type { Recorder } from './history';
import type { Rng } from './rng';

export const GATEWAY_FAULTS = ['gw-kill', 'gw-term'] as const;
export const REDIS_LINK_FAULTS = ['redis-latency', 'redis-stall', 'redis-reset'] as const;
export const CLIENT_FAULTS = [
  'client-latency',
  'client-stall',
  'client-reset',
  'slow-reader',
] as const;

export type FaultKind =
  | (typeof GATEWAY_FAULTS)[number]
  | BrokerFault
  | (typeof REDIS_LINK_FAULTS)[number]
  | (typeof CLIENT_FAULTS)[number];

export const ALL_FAULT_KINDS: readonly FaultKind[] = [
  ...GATEWAY_FAULTS,
  'redis-kill',
  'redis-restart',
  'redis-empty',
  'redis-old',
  'failover',
  ...REDIS_LINK_FAULTS,
  ...CLIENT_FAULTS,
];

/** Every fault kind the soak can inject on `broker`. */
export function faultKinds(broker: Broker): FaultKind[] {
  return [
    ...GATEWAY_FAULTS,
    ...broker.faults,
    ...(broker.proxied ? REDIS_LINK_FAULTS : []),
    ...CLIENT_FAULTS,
  ];
}

export interface PlannedFault {
  at: number;
  kind: FaultKind;
}

/**
 * When each fault happens: `perKind` of every kind, one in each equal slice of
 * [fromMs, toMs) at a random point of it, so every kind reaches its count and kinds overlap.
 */
export function planFaults(
  kinds: readonly FaultKind[],
  perKind: number,
  fromMs: number,
  toMs: number,
  rng: Rng,
): PlannedFault[] {
  const slice = (toMs - fromMs) / perKind;
  const plan = kinds.flatMap((kind) =>
    Array.from({ length: perKind }, (_, i) => ({
      at: Math.round(fromMs + slice * (i + rng.next() * 0.8)),
      kind,
    })),
  );
  return plan.sort((a, b) => a.at - b.at);
}

export interface FaultTargets {
  fleet: Fleet;
  broker: Broker;
  actors: () => readonly Actor[];
  recorder: Recorder;
  rng: Rng;
}

/**
 * Runs a plan: each fault at its time, concurrently with the others, on a random target that
 * is free (a gateway not already being cycled, at least one other gateway up; one broker
 * fault at a time; a link not already faulted). A fault whose target is not free waits and
 * tries again, so that the plan's counts are reached.
 */
export class FaultRunner {
  /** Faults carried out and healed, by kind. */
  readonly done = new Map<FaultKind, number>();
  /**
   * Faults that failed (could not be injected or undone: the harness's trouble, not a
   * violation), by kind: not in `done`. The run goes on with the next fault.
   */
  readonly failed = new Map<FaultKind, number>();
  /** What went wrong with each of `failed`. */
  readonly errors: string[] = [];
  private readonly busy = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  private nextId = 0;
  private stopped = false;

  constructor(private readonly targets: FaultTargets) {}

  /** Starts the plan (times from now); `stop()` ends it. */
  start(plan: readonly PlannedFault[], t0: number): void {
    for (const fault of plan) {
      const delay = Math.max(0, t0 + fault.at - this.targets.recorder.now());
      const timer = setTimeout(() => this.track(this.attempt(fault.kind)), delay);
      this.timers.push(timer);
    }
  }

  private readonly timers: NodeJS.Timeout[] = [];

  /** No new faults; resolves once every fault under way has healed. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  get total(): number {
    return [...this.done.values()].reduce((a, b) => a + b, 0);
  }

  private track(promise: Promise<void>): void {
    this.running.add(promise);
    void promise.finally(() => this.running.delete(promise));
  }

  private async attempt(kind: FaultKind): Promise<void> {
    while (!this.stopped) {
      let started: boolean;
      try {
        started = await this.inject(kind);
      } catch (error) {
        this.errors.push(`${kind}: ${error instanceof Error ? error.message : String(error)}`);
        this.failed.set(kind, (this.failed.get(kind) ?? 0) + 1);
        return;
      }
      if (started) {
        this.done.set(kind, (this.done.get(kind) ?? 0) + 1);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** Injects `kind` on a free target and waits until it healed; false when none was free. */
  private async inject(kind: FaultKind): Promise<boolean> {
    const { fleet, broker, rng, recorder } = this.targets;
    const id = ++this.nextId;
    let key: string;
    let target: string;
    let node: string | undefined;
    let act: (begin: () => void) => Promise<void>;
    const hold = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
    if (kind === 'gw-kill' || kind === 'gw-term') {
      const free = fleet.available().filter((i) => !this.busy.has(`gw${i}`));
      if (free.length === 0 || fleet.up() < 2) return false;
      const index = rng.pick(free);
      key = `gw${index}`;
      target = `g${index}`;
      node = fleet.nodeId(index);
      const downMs = rng.int(200, 2_000);
      act = (begin) => {
        begin();
        return fleet.cycle(index, kind === 'gw-kill' ? 'SIGKILL' : 'SIGTERM', downMs);
      };
    } else if (REDIS_LINK_FAULTS.some((k) => k === kind)) {
      const free = fleet.available().filter((i) => !this.busy.has(`link${i}`));
      const index = free.length === 0 ? undefined : rng.pick(free);
      const proxy = index === undefined ? undefined : fleet.redisProxy(index);
      if (index === undefined || proxy === undefined) return false;
      key = `link${index}`;
      target = `g${index}-redis`;
      node = fleet.nodeId(index);
      act = async (begin) => {
        begin();
        if (kind === 'redis-reset') return proxy.reset();
        if (kind === 'redis-latency') proxy.latency(rng.int(50, 1_500));
        else proxy.stall('both');
        await hold(rng.int(1_000, 4_000));
        proxy.latency(0);
        proxy.resume();
      };
    } else if (CLIENT_FAULTS.some((k) => k === kind)) {
      const free = this.targets.actors().filter((a) => !a.over && !this.busy.has(a.label));
      if (free.length === 0) return false;
      const actor = rng.pick(free);
      key = actor.label;
      target = actor.label;
      const proxies = actor.proxies;
      act = async (begin) => {
        begin();
        if (kind === 'client-reset') return proxies.forEach((p) => p.reset());
        if (kind === 'client-latency') proxies.forEach((p) => p.latency(rng.int(200, 4_000)));
        else proxies.forEach((p) => p.stall(kind === 'slow-reader' ? 'down' : 'both'));
        await hold(kind === 'slow-reader' ? rng.int(2_000, 8_000) : rng.int(1_000, 5_000));
        for (const proxy of proxies) {
          proxy.latency(0);
          proxy.resume();
        }
      };
    } else {
      if (this.busy.has('broker')) return false;
      key = 'broker';
      target = broker.name;
      const brokerFault = kind as BrokerFault;
      act = async (begin) => {
        await broker.fault(brokerFault, rng, begin);
      };
    }
    this.busy.add(key);
    const at = {
      c: 'h' as const,
      k: 'fault' as const,
      id,
      kind,
      target,
      ...(node === undefined ? {} : { node }),
    };
    let begun = false;
    const begin = () => {
      if (!begun) recorder.add({ ...at, phase: 'start' });
      begun = true;
    };
    try {
      await act(begin);
    } catch (error) {
      if (error instanceof FaultNotNow && !begun) return false;
      throw error;
    } finally {
      if (begun) recorder.add({ ...at, phase: 'heal' });
      this.busy.delete(key);
    }
    return true;
  }
}
