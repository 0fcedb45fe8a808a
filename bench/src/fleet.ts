import { join } from 'node:path';
import type { GenReport, ReplyMap, Reply, Request, StepSpec } from './generator/protocol';
import type { Plan } from './plan';
import { forkProc, stopProc, type Proc } from './procs';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type RequestBody = DistributiveOmit<Request, 'id'>;

/** The later of two times, NaN standing for 'not yet' (it loses to any time). */
export function latest(a: number, b: number): number {
  if (Number.isNaN(a)) return b;
  if (Number.isNaN(b)) return a;
  return Math.max(a, b);
}

/** One load-generator process, driven by request/reply over its IPC channel. */
class Generator {
  private nextId = 0;
  private readonly waiting = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();

  constructor(readonly proc: Proc) {
    proc.child.on('message', (raw) => {
      const reply = raw as Reply;
      const pending = this.waiting.get(reply.id);
      if (!pending) return;
      this.waiting.delete(reply.id);
      if (reply.ok) pending.resolve(reply.result);
      else pending.reject(new Error(`${proc.name}: ${reply.error}`));
    });
    void proc.exited.then((code) => {
      for (const { reject } of this.waiting.values())
        reject(new Error(`${proc.name} exited (${String(code)}); see ${proc.log}`));
      this.waiting.clear();
    });
  }

  call<T extends RequestBody['type']>(
    body: Extract<RequestBody, { type: T }>,
    timeoutMs = 120_000,
  ): Promise<ReplyMap[T]> {
    const id = ++this.nextId;
    return new Promise<ReplyMap[T]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${this.proc.name}: no answer to '${body.type}' within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as ReplyMap[T]);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.proc.child.send({ ...body, id });
    });
  }
}

/**
 * The load generators: separate processes, so that no generator shares an event loop (or a
 * core's time slice bookkeeping) with a server under test.
 */
export class Fleet {
  private constructor(private readonly generators: Generator[]) {}

  static start(count: number, bundle: string, logDir: string, tag: string): Fleet {
    const generators = Array.from({ length: count }, (_, g) => {
      const name = `gen-${tag}-${g}`;
      return new Generator(forkProc(name, bundle, [], { log: join(logDir, `${name}.log`) }));
    });
    return new Fleet(generators);
  }

  get pids(): number[] {
    return this.generators.map((g) => g.proc.pid);
  }

  /** Connects every client of the plan (`concurrency` at a time per generator); resolves to ms. */
  async connect(
    plan: Plan,
    client: 'raw' | 'socket.io',
    concurrency = 16,
    timeoutMs = 120_000,
  ): Promise<number> {
    const results = await Promise.all(
      this.generators.map((g, i) =>
        g.call(
          {
            type: 'connect',
            gen: i,
            client,
            clients: plan.clients.filter((c) => c.gen === i),
            concurrency,
          },
          timeoutMs,
        ),
      ),
    );
    return Math.max(...results.map((r) => r.ms));
  }

  async run(spec: Omit<StepSpec, 'rate'>, rates: number[]): Promise<void> {
    await Promise.all(
      this.generators.map((g, i) =>
        g.call({ type: 'run', spec: { ...spec, rate: rates[i] ?? 0 } }),
      ),
    );
  }

  async progress(): Promise<ReplyMap['progress']> {
    const all = await Promise.all(this.generators.map((g) => g.call({ type: 'progress' })));
    return all.reduce(
      (a, b) => ({
        received: a.received + b.received,
        sent: a.sent + b.sent,
        reconnected: a.reconnected + b.reconnected,
        gaveUp: a.gaveUp + b.gaveUp,
        lastAt: latest(a.lastAt, b.lastAt),
      }),
      { received: 0, sent: 0, reconnected: 0, gaveUp: 0, lastAt: Number.NaN },
    );
  }

  async resumeSlow(): Promise<{ slow: number; dropped: number }> {
    const all = await Promise.all(this.generators.map((g) => g.call({ type: 'resume' })));
    return all.reduce((a, b) => ({ slow: a.slow + b.slow, dropped: a.dropped + b.dropped }), {
      slow: 0,
      dropped: 0,
    });
  }

  report(): Promise<GenReport[]> {
    return Promise.all(this.generators.map((g) => g.call({ type: 'report' })));
  }

  async close(): Promise<void> {
    await Promise.all(
      this.generators.map(async (g) => {
        await g.call({ type: 'close' }, 5_000).catch(() => undefined);
        await stopProc(g.proc, 2_000);
      }),
    );
  }
}
