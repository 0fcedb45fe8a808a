import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Actor } from './actor';
import { createBroker, type BrokerName } from './brokers';
import { check } from './checker/check';
import type { Violation } from './checker/violation';
import { FaultRunner, faultKinds, planFaults, type FaultKind } from './faults';
import { Fleet } from './fleet';
import { Recorder, type Entry } from './history';
import { FaultProxy } from './proxy';
import { Rng } from './rng';

export interface SoakOptions {
  minutes: number;
  seed: number;
  broker: BrokerName;
  /** @default 3 */
  gateways?: number;
  /** @default 8 */
  clients?: number;
  /** Faults of each kind per 10 minutes. @default 55 */
  faultsPerKind?: number;
  /** Only these kinds (the injected-bug test). @default every kind the broker allows */
  kinds?: readonly FaultKind[];
  /** How long clients may take to converge once the faults stop. @default 20_000 */
  boundMs?: number;
  /** Where history.jsonl, gateway logs and the report go. */
  dir: string;
  /** Extra gateway environment (tests only: the injected-bug switch). */
  gatewayEnv?: Record<string, string>;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface SoakRun {
  history: Entry[];
  violations: Violation[];
  /** Faults carried out and healed, by kind. */
  faults: Map<FaultKind, number>;
  /** Faults the harness could not carry out or undo, by kind (not in `faults`). */
  faultsFailed: Map<FaultKind, number>;
  faultErrors: string[];
  /** Acked room messages and DMs. */
  messages: number;
  startedAt: Date;
  durationMs: number;
  quietAtMs: number;
}

/** Pause between one actor's operations, in ms. */
const THINK_MS: [number, number] = [100, 500];

/** Gateway settings for the soak: quick drains; everything else as deployed. */
const GATEWAY_ENV = { LOG_LEVEL: 'warn', DRAIN_TIMEOUT_MS: '3000' };

/**
 * One soak: gateways on a broker, clients doing random operations through fault proxies,
 * faults on a seeded plan, then quiet, a final message from every client, and the checker.
 */
export async function runSoak(options: SoakOptions): Promise<SoakRun> {
  const log = options.log ?? (() => undefined);
  const rng = new Rng(options.seed);
  const durationMs = Math.round(options.minutes * 60_000);
  const boundMs = options.boundMs ?? 20_000;
  mkdirSync(options.dir, { recursive: true });
  const recorder = new Recorder(join(options.dir, 'history.jsonl'));
  const broker = createBroker(options.broker, options.dir);
  const fleet = new Fleet(
    broker,
    options.gateways ?? 3,
    { ...GATEWAY_ENV, ...options.gatewayEnv },
    options.dir,
  );
  const actors: Actor[] = [];
  const proxies: FaultProxy[] = [];
  let clientCount = 0;
  let nameCount = 0;
  const startedAt = new Date();
  let stopping = false;

  const newActor = async (name?: string): Promise<Actor> => {
    const slots = rng.shuffle(Array.from({ length: fleet.size }, (_, i) => i));
    const own = await Promise.all(slots.map((slot) => FaultProxy.start(() => fleet.port(slot))));
    proxies.push(...own);
    const actor = new Actor({
      label: `c${++clientCount}`,
      name: name ?? `soak${++nameCount}`,
      proxies: own,
      recorder,
      rng: rng.fork(),
      peers: () => actors.filter((a) => !a.over).map((a) => a.name),
    });
    actors.push(actor);
    return actor;
  };
  /** An actor's life: random operations until the soak goes quiet; a new one when it ends. */
  const live = async (first: Actor): Promise<void> => {
    let actor = first;
    while (!stopping) {
      if (actor.over) {
        // Names come back: the quitter's own, sometimes a live client's (must be refused).
        const roll = rng.next();
        const others = actors.filter((a) => !a.over && a !== actor).map((a) => a.name);
        const name =
          roll < 0.4 ? actor.name : roll < 0.5 && others.length > 0 ? rng.pick(others) : undefined;
        actor = await newActor(name);
        continue;
      }
      await actor.step();
      await sleep(rng.int(...THINK_MS));
    }
  };

  // Stopped from outside (Ctrl-C, a timeout): leave no gateway or Redis behind.
  const abort = (signal: NodeJS.Signals) => {
    fleet.abort();
    broker.abort();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', abort).once('SIGTERM', abort);
  const runner = new FaultRunner({
    fleet,
    broker,
    actors: () => actors,
    recorder,
    rng: rng.fork(),
  });
  try {
    await broker.start();
    await fleet.start();
    log(
      `soak: ${fleet.size} gateways on ${broker.name}, seed ${options.seed}, ${options.minutes} min`,
    );
    const first = await Promise.all(Array.from({ length: options.clients ?? 8 }, () => newActor()));
    const lives = first.map((actor) => live(actor));
    const snapshots = setInterval(() => void broker.snapshot().catch(() => undefined), 2_000);
    const supported = faultKinds(broker);
    const kinds = options.kinds ?? supported;
    const unsupported = kinds.filter((kind) => !supported.includes(kind));
    if (unsupported.length > 0) {
      throw new Error(`the ${broker.name} broker has no fault ${unsupported.join(', ')}`);
    }
    const perKind = Math.max(1, Math.ceil(((options.faultsPerKind ?? 55) * options.minutes) / 10));
    const t0 = recorder.now();
    const warmup = Math.min(3_000, durationMs / 10);
    runner.start(planFaults(kinds, perKind, warmup, durationMs - 2_000, rng.fork()), t0);
    const progress = setInterval(
      () => log(`soak: ${Math.round((recorder.now() - t0) / 1000)} s, ${runner.total} faults`),
      30_000,
    );
    await sleep(durationMs);
    clearInterval(progress);
    await runner.stop();
    clearInterval(snapshots);
    stopping = true;
    await Promise.all(lives);
    const quietAt = recorder.now();
    recorder.add({ c: 'h', k: 'quiet', boundMs });
    log(`soak: quiet after ${runner.total} faults; waiting for every client to converge`);
    await converge(
      actors.filter((a) => !a.over),
      recorder,
      quietAt + boundMs,
    );
    recorder.add({ c: 'h', k: 'finish' });
    for (const actor of actors) if (!actor.over) actor.quit();
    const history = recorder.entries;
    const messages = history.filter(
      (e) => e.k === 'ok' && (e.op === 'send' || e.op === 'dm'),
    ).length;
    return {
      history,
      violations: check(history),
      faults: runner.done,
      faultsFailed: runner.failed,
      faultErrors: runner.errors,
      messages,
      startedAt,
      durationMs,
      quietAtMs: quietAt,
    };
  } finally {
    process.off('SIGINT', abort).off('SIGTERM', abort);
    stopping = true;
    await runner.stop();
    await Promise.allSettled(proxies.map((proxy) => proxy.close()));
    await fleet.stop();
    await broker.stop();
    await recorder.close();
  }
}

/**
 * Every live client sends one final message; resolves once each has everyone else's (in its
 * room) or at `deadline` (in recorder time). The checker judges what came of it.
 */
async function converge(
  actors: readonly Actor[],
  recorder: Recorder,
  deadline: number,
): Promise<void> {
  const from = recorder.entries.length;
  const sends = actors.map((actor) => actor.send(true));
  const finished = (): boolean => {
    const recent = recorder.entries.slice(from);
    const finals = recent.filter((e) => e.k === 'op' && e.final === true);
    const acked = new Set(
      recent.flatMap((e) => (e.k === 'ok' && e.op === 'send' ? [`${e.c}#${e.n}`] : [])),
    );
    const got = new Set(recent.flatMap((e) => (e.k === 'msg' ? [`${e.c}\u0000${e.text}`] : [])));
    return finals.every(
      (f) =>
        f.k === 'op' &&
        acked.has(`${f.c}#${f.n}`) &&
        actors.every(
          (a) => a.label === f.c || a.room !== f.room || got.has(`${a.label}\u0000${f.text ?? ''}`),
        ),
    );
  };
  while (recorder.now() < deadline && !finished()) await sleep(200);
  void Promise.allSettled(sends);
}
