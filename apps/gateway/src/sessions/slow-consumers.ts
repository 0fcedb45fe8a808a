import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { LocalSession, Registry } from './registry';
import type { ChatSocket } from './socket';

interface EngineInternals {
  writeBuffer?: { data?: unknown }[];
  transport?: { socket?: { bufferedAmount?: number; terminate?: () => void } };
}

function engineSocket(socket: ChatSocket): EngineInternals {
  return socket.conn as unknown as EngineInternals;
}

/**
 * Closes the connection at once. A polite close would wait for the client to read a close frame,
 * which a client that stopped reading never does.
 */
function terminate(socket: ChatSocket): void {
  const ws = engineSocket(socket).transport?.socket;
  if (ws?.terminate) ws.terminate();
  else socket.conn.close();
}

/**
 * Bytes waiting to reach one client: Engine.IO's write buffer (packets held while the transport
 * is busy) plus what the WebSocket has queued but the kernel has not taken. Socket.IO exposes
 * neither as public API, so both are read structurally here, in one place.
 */
export function bufferedBytes(socket: ChatSocket): number {
  const conn = engineSocket(socket);
  let bytes = conn.transport?.socket?.bufferedAmount ?? 0;
  for (const packet of conn.writeBuffer ?? []) {
    const data = packet.data;
    bytes += typeof data === 'string' ? data.length : data instanceof Buffer ? data.length : 64;
  }
  return bytes;
}

/** Sessions checked per tick at most. @default 2_500 */
const CHECKS_PER_TICK = 2_500;

/**
 * Cuts off clients that stop reading. Everything sent to a client waits in memory until the
 * client reads it, so a client that never reads would grow this node without bound; past
 * `maxBytes` its connection is closed (it may reconnect and resume from its last seq). One
 * unref'd timer sweeps the sessions: the check costs nothing on the delivery path. Each tick
 * checks at most `perTick` of them, going on where the last tick stopped, so a node with
 * 10,000 idle clients spends a quarter of what a full sweep per tick would (each session is
 * then checked every second instead of every 250 ms).
 */
export class SlowConsumerGuard {
  private timer: NodeJS.Timeout | undefined;
  private readonly cut = new WeakSet<ChatSocket>();
  /** Where the sweep goes on (a Map iterator sees later additions and skips deletions). */
  private cursor: Iterator<LocalSession> | undefined;

  constructor(
    private readonly registry: Registry,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly maxBytes: number,
    private readonly intervalMs = 250,
    private readonly perTick = CHECKS_PER_TICK,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.sweep(), this.intervalMs);
    this.timer.unref();
  }

  /** Checks the next `perTick` sessions (from the first again once all were checked). */
  sweep(): void {
    let restarted = false;
    for (let checked = 0; checked < this.perTick; checked++) {
      this.cursor ??= this.registry.all();
      const next = this.cursor.next();
      if (next.done) {
        this.cursor = undefined;
        // The last tick ended on the last session: start over now rather than idle a tick.
        if (checked === 0 && !restarted) {
          restarted = true;
          checked--;
          continue;
        }
        return;
      }
      const session = next.value;
      if (this.cut.has(session.socket)) continue;
      const bytes = bufferedBytes(session.socket);
      if (bytes <= this.maxBytes) continue;
      this.cut.add(session.socket);
      this.metrics.slowConsumers.inc();
      this.logger.warn({ user: session.user, bytes }, 'cutting off a slow consumer');
      terminate(session.socket);
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}
