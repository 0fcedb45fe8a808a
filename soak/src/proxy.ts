import { createServer, connect, type Server, type Socket } from 'node:net';

/** Chunks held per direction before the proxy stops reading (and resumes below LOW_WATER). */
const HIGH_WATER = 256;
const LOW_WATER = 64;

/** Which way a stall holds data: both ways, or only towards the client (it stops reading). */
export type StallDirection = 'both' | 'down';

interface Pipe {
  client: Socket;
  upstream: Socket;
}

/**
 * A fault-injecting TCP proxy on 127.0.0.1 (loopback only) in front of a target that may move
 * (a restarted process gets another port) or be away (connections are then refused by closing
 * them at once). Faults apply to every connection through it: added latency (order kept), a
 * stall (nothing forwarded, so TCP backpressure builds up behind it), or a reset (RST both
 * ways, as a broken network would).
 */
export class FaultProxy {
  private readonly pipes = new Set<Pipe>();
  private latencyMs = 0;
  private stalled: StallDirection | undefined;
  private readonly waiting = new Set<() => void>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(target: () => number | undefined): Promise<FaultProxy> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy has no port');
    const proxy = new FaultProxy(server, address.port);
    server.on('connection', (client) => proxy.accept(client, target()));
    return proxy;
  }

  /** Adds `ms` to every chunk either way (0 ends the fault). */
  latency(ms: number): void {
    this.latencyMs = ms;
  }

  stall(direction: StallDirection): void {
    this.stalled = direction;
  }

  /** Ends a stall: what was held back flows again, in order. */
  resume(): void {
    this.stalled = undefined;
    for (const wake of [...this.waiting]) wake();
  }

  /** Cuts every current connection with a reset. */
  reset(): void {
    for (const pipe of this.pipes) this.drop(pipe);
  }

  async close(): Promise<void> {
    this.reset();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, port: number | undefined): void {
    if (port === undefined) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(port, '127.0.0.1');
    const pipe = { client, upstream };
    this.pipes.add(pipe);
    const end = () => this.drop(pipe);
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    this.forward(client, upstream, 'up', pipe);
    this.forward(upstream, client, 'down', pipe);
  }

  private drop(pipe: Pipe): void {
    if (!this.pipes.delete(pipe)) return;
    for (const socket of [pipe.client, pipe.upstream]) {
      if (!socket.destroyed) socket.resetAndDestroy();
    }
  }

  /** Moves chunks from `from` to `to` one at a time, honouring latency and stalls. */
  private forward(from: Socket, to: Socket, way: 'up' | 'down', pipe: Pipe): void {
    const queue: { due: number; chunk: Buffer }[] = [];
    let pumping = false;
    const blocked = () => this.stalled === 'both' || (this.stalled === 'down' && way === 'down');
    const pump = async () => {
      if (pumping) return;
      pumping = true;
      while (queue.length > 0 && this.pipes.has(pipe)) {
        if (blocked()) await this.unblocked();
        const head = queue[0];
        if (head === undefined) break;
        const wait = head.due - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        if (blocked()) continue;
        queue.shift();
        if (!to.destroyed && !to.write(head.chunk)) {
          await new Promise((resolve) => to.once('drain', resolve).once('close', resolve));
        }
        if (queue.length < LOW_WATER && !blocked()) from.resume();
      }
      pumping = false;
    };
    from.on('data', (chunk: Buffer) => {
      const last = queue.at(-1)?.due ?? 0;
      queue.push({ due: Math.max(last, Date.now() + this.latencyMs), chunk });
      // Held data stays bounded; the rest waits in the kernel, so a stall backs up TCP.
      if (blocked() || queue.length >= HIGH_WATER) from.pause();
      void pump();
    });
  }

  private unblocked(): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.waiting.delete(wake);
        resolve();
      };
      this.waiting.add(wake);
    });
  }
}
