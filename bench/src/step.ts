import { nowMs, sleep, sleepUntil } from './clock';
import type { Cluster, SystemName } from './cluster';
import type { Fleet } from './fleet';
import type { GenReport } from './generator/protocol';
import { mergeHistograms, percentiles, type Percentiles } from './histogram';
import { bytesFromRedis } from './net-stats';
import type { Plan } from './plan';
import { sampleMachine, sampleProc, type ProcSample } from './proc-stats';

/** The pass criterion of a step (the saturation definition of the issue). */
export const P99_LIMIT_MS = 50;

export interface Timing {
  warmupMs: number;
  measureMs: number;
  /** Longest wait after the last send for deliveries to finish. */
  drainMs: number;
}

export interface ProcUsage {
  role: string;
  pid: number;
  /** CPU time in the measurement window, ms. */
  cpuMs: number;
  /** CPU cores used on average in the window. */
  cores: number;
  rssMb: number;
  peakRssMb: number;
  /** RSS change over the whole step (warm-up, measurement, drain), MB. */
  rssGrowthMb: number;
}

export interface StepResult {
  system: SystemName;
  scenario: string;
  /** Offered load: messages scheduled per second (all senders). */
  rate: number;
  nodes: number;
  clients: number;
  rooms: number;
  sent: number;
  expected: number;
  delivered: number;
  lost: number;
  duplicates: number;
  sendErrors: number;
  errorCodes: Record<string, number>;
  disconnects: number;
  stale: number;
  /** Deliveries received in the measurement window, per second. */
  deliveriesPerSec: number;
  /** Scheduled-send-to-receive latency of messages scheduled in the measurement window, ms. */
  latency: Percentiles;
  /** How late the generators sent (their health), ms. */
  sendLagP99: number;
  sut: ProcUsage[];
  generators: ProcUsage[];
  /** CPU of the system under test (its servers, plus Redis if it uses Redis) per delivery. */
  cpuUsPerDelivery: number;
  deliveriesPerCpuSec: number;
  sutCores: number;
  generatorCores: number;
  /** Machine CPU in the window used by processes not of this run (other users: noise). */
  otherCores: number;
  /** Interrupt and softirq time, charged to no process (mostly loopback TCP for our traffic). */
  irqCores: number;
  peakRssMb: number;
  /** S3: bytes each node received from Redis per second in the window (by node index). */
  busRxBytesPerSec?: number[];
  pass: boolean;
  failReason?: string;
  /** Noisy failed attempts at this rate before this one (see sweep.ts). */
  retries: number;
}

interface Snapshot {
  at: number;
  procs: Map<number, ProcSample | undefined>;
  machine: ReturnType<typeof sampleMachine>;
  harness: number;
  bus: Map<number, number> | undefined;
}

function snapshot(pids: number[], redisPort: number | undefined): Snapshot {
  const usage = process.cpuUsage();
  return {
    at: nowMs(),
    procs: new Map(pids.map((pid) => [pid, sampleProc(pid)])),
    machine: sampleMachine(),
    harness: (usage.user + usage.system) / 1000,
    bus: redisPort === undefined ? undefined : bytesFromRedis(redisPort),
  };
}

function usage(
  role: string,
  pid: number,
  first: Snapshot,
  a: Snapshot,
  b: Snapshot,
  last: Snapshot,
): ProcUsage {
  const start = a.procs.get(pid);
  const end = b.procs.get(pid);
  const cpuMs = start && end ? end.cpuMs - start.cpuMs : Number.NaN;
  const s0 = first.procs.get(pid);
  const s1 = last.procs.get(pid) ?? end;
  return {
    role,
    pid,
    cpuMs,
    cores: cpuMs / (b.at - a.at),
    rssMb: (end?.rssKb ?? 0) / 1024,
    peakRssMb: (s1?.hwmKb ?? 0) / 1024,
    rssGrowthMb: ((s1?.rssKb ?? 0) - (s0?.rssKb ?? 0)) / 1024,
  };
}

export interface StepContext {
  scenario: string;
  cluster: Cluster;
  fleet: Fleet;
  plan: Plan;
  timing: Timing;
  textBytes: number;
}

let steps = 0;

/** Runs `rate` messages/s open-loop through the cluster and measures everything. */
export interface StepOptions {
  /** Slow clients stop reading from this step on (S4). */
  pauseSlow?: boolean;
  /** Overrides the session's timing for this step. */
  timing?: Timing;
  /** Runs when the measured window opens (S6: kills a node); the step waits for it. */
  during?: () => Promise<void>;
}

export async function runStep(
  ctx: StepContext,
  rate: number,
  options: StepOptions = {},
): Promise<StepResult> {
  const timing = options.timing ?? ctx.timing;
  const pauseSlow = options.pauseSlow ?? false;
  const { cluster, fleet, plan } = ctx;
  const step = ++steps;
  const sut = cluster.sutPids();
  const genPids = fleet.pids;
  const allPids = [...sut.keys(), ...genPids];
  const totalSenders = plan.sendersPerGen.reduce((a, b) => a + b, 0);
  const rates = plan.sendersPerGen.map((n) => (rate * n) / totalSenders);
  const startAt = nowMs() + 300;
  const measureFrom = startAt + timing.warmupMs;
  const endAt = measureFrom + timing.measureMs;
  const totals = rates.map((r) => Math.floor(((endAt - startAt) * r) / 1000));
  const redisPort = ctx.scenario === 's3' ? cluster.redis?.port : undefined;

  const first = snapshot(allPids, undefined);
  await fleet.run(
    { step, startAt, measureFrom, endAt, totals, textBytes: ctx.textBytes, pauseSlow },
    rates,
  );
  await sleepUntil(measureFrom);
  const a = snapshot(allPids, redisPort);
  await options.during?.();
  await sleepUntil(endAt);
  const b = snapshot(allPids, redisPort);

  // Wait until the deliveries stop coming (or the drain limit).
  const drainUntil = endAt + timing.drainMs;
  let last = -1;
  let quiet = 0;
  while (nowMs() < drainUntil) {
    await sleep(150);
    const { received } = await fleet.progress();
    quiet = received === last ? quiet + 1 : 0;
    last = received;
    if (quiet >= 3) break;
  }
  const reports = await fleet.report();
  const end = snapshot(allPids, undefined);
  return summarise(ctx, timing, rate, pauseSlow, reports, { first, a, b, end }, sut, genPids);
}

function summarise(
  ctx: StepContext,
  timing: Timing,
  rate: number,
  pauseSlow: boolean,
  reports: GenReport[],
  snaps: { first: Snapshot; a: Snapshot; b: Snapshot; end: Snapshot },
  sut: Map<number, string>,
  genPids: number[],
): StepResult {
  const { plan, cluster } = ctx;
  const expectedPerRoom = pauseSlow ? plan.expectedPerRoomSlow : plan.expectedPerRoom;
  let expected = 0;
  let delivered = 0;
  let lost = 0;
  let duplicates = 0;
  for (const sender of reports) {
    for (let k = 0; k < sender.sent; k++) {
      const want = expectedPerRoom[sender.sentRooms[k] ?? -1] ?? 0;
      let got = 0;
      for (const receiver of reports) got += receiver.counts[sender.gen]?.[k] ?? 0;
      expected += want;
      delivered += got;
      if (got < want) lost += want - got;
      else duplicates += got - want;
    }
  }
  const latency = percentiles(mergeHistograms(reports.map((r) => r.histogram)));
  const sendLag = percentiles(mergeHistograms(reports.map((r) => r.sendLag)));
  const windowDeliveries = reports.reduce((n, r) => n + r.windowDeliveries, 0);
  const errorCodes: Record<string, number> = {};
  for (const r of reports)
    for (const [code, n] of Object.entries(r.errorCodes))
      errorCodes[code] = (errorCodes[code] ?? 0) + n;
  const { first, a, b, end } = snaps;
  const sutUsage = [...sut].map(([pid, role]) => usage(role, pid, first, a, b, end));
  const genUsage = genPids.map((pid, i) => usage(`generator ${i}`, pid, first, a, b, end));
  const windowMs = b.at - a.at;
  const sutCpuMs = sutUsage.reduce((n, u) => n + u.cpuMs, 0);
  const genCpuMs = genUsage.reduce((n, u) => n + u.cpuMs, 0);
  const machineBusy = b.machine.processMs - a.machine.processMs;
  const harnessMs = b.harness - a.harness;
  const sendErrors = reports.reduce((n, r) => n + r.sendErrors, 0);
  const disconnects = reports.reduce((n, r) => n + r.disconnects, 0);
  const result: StepResult = {
    system: cluster.system,
    scenario: ctx.scenario,
    rate,
    nodes: cluster.servers.length,
    clients: plan.clients.length,
    rooms: plan.options.rooms,
    sent: reports.reduce((n, r) => n + r.sent, 0),
    expected,
    delivered,
    lost,
    duplicates,
    sendErrors,
    errorCodes,
    disconnects,
    stale: reports.reduce((n, r) => n + r.stale, 0),
    deliveriesPerSec: (windowDeliveries * 1000) / timing.measureMs,
    latency,
    sendLagP99: sendLag.p99,
    sut: sutUsage,
    generators: genUsage,
    cpuUsPerDelivery: windowDeliveries > 0 ? (sutCpuMs * 1000) / windowDeliveries : Number.NaN,
    deliveriesPerCpuSec: sutCpuMs > 0 ? windowDeliveries / (sutCpuMs / 1000) : Number.NaN,
    sutCores: sutCpuMs / windowMs,
    generatorCores: genCpuMs / windowMs,
    otherCores: Math.max(0, (machineBusy - sutCpuMs - genCpuMs - harnessMs) / windowMs),
    irqCores: (b.machine.irqMs - a.machine.irqMs) / windowMs,
    peakRssMb: Math.max(
      0,
      ...sutUsage.filter((u) => !u.role.startsWith('redis')).map((u) => u.peakRssMb),
    ),
    pass: false,
    retries: 0,
  };
  if (a.bus && b.bus) {
    result.busRxBytesPerSec = cluster.servers.map(
      (s) => (((b.bus?.get(s.proc.pid) ?? 0) - (a.bus?.get(s.proc.pid) ?? 0)) * 1000) / windowMs,
    );
  }
  const reasons: string[] = [];
  if (latency.count === 0) reasons.push('nothing delivered');
  else if (!(latency.p99 < P99_LIMIT_MS)) reasons.push(`p99 ${latency.p99.toFixed(1)} ms`);
  if (lost > 0) reasons.push(`${lost} lost`);
  if (sendErrors > 0) reasons.push(`${sendErrors} send errors ${JSON.stringify(errorCodes)}`);
  if (disconnects > 0) reasons.push(`${disconnects} disconnects`);
  result.pass = reasons.length === 0;
  if (!result.pass) result.failReason = reasons.join(', ');
  return result;
}
