import type { ChatError } from '@chat/protocol';
import { ChatClient, type ClientEnd } from '../../apps/cli/src/client';
import type { ClientEvent } from '../../apps/cli/src/events';
import type { Outcome } from '../../apps/cli/src/requests';
import type { OpKind, Recorder } from './history';
import type { FaultProxy } from './proxy';
import type { Rng } from './rng';

export const ROOMS = ['lobby', 'r1', 'r2'] as const;

export interface ActorOptions {
  label: string;
  name: string;
  /** This client's own proxies, one per gateway slot, in the order it tries them. */
  proxies: readonly FaultProxy[];
  recorder: Recorder;
  rng: Rng;
  /** Names of the other clients now, for DMs. */
  peers: () => string[];
}

/**
 * One simulated user: the real client library (apps/cli's ChatClient: outbox, `cid` retries,
 * fail-over and resume across its URLs) driven by random operations, with every request, ack
 * and event it sees written to the history.
 */
export class Actor {
  readonly label: string;
  readonly name: string;
  readonly proxies: readonly FaultProxy[];
  private readonly client: ChatClient;
  private readonly recorder: Recorder;
  private readonly rng: Rng;
  private readonly peers: () => string[];
  private node = '';
  private ops = 0;
  private ended: ClientEnd | undefined;
  /** Resolves when the session is over (quit, refused, or unreachable). */
  readonly done: Promise<ClientEnd>;

  constructor(options: ActorOptions) {
    this.label = options.label;
    this.name = options.name;
    this.proxies = options.proxies;
    this.recorder = options.recorder;
    this.rng = options.rng;
    this.peers = options.peers;
    const room = this.rng.pick(ROOMS);
    this.recorder.add({ c: this.label, k: 'start', name: this.name, room });
    this.client = new ChatClient({
      urls: options.proxies.map((proxy) => `http://127.0.0.1:${proxy.port}`),
      name: this.name,
      room,
      onEvent: (event) => this.record(event),
      connectTimeoutMs: 3_000,
      ackTimeoutMs: 3_000,
      // The soak outlasts any outage it makes: never give up on the cluster.
      giveUpAfterMs: 3_600_000,
      backoff: { initialMs: 100, maxMs: 1_000 },
    });
    this.done = this.client.run().then((end) => {
      this.ended = end;
      const detail =
        end.kind === 'rejected' ? end.error.code : end.kind === 'unreachable' ? end.message : '';
      this.recorder.add({ c: this.label, k: 'end', how: end.kind, detail });
      return end;
    });
  }

  get over(): boolean {
    return this.ended !== undefined;
  }

  get online(): boolean {
    return this.client.online;
  }

  get room(): string {
    return this.client.room;
  }

  /** One random operation, resolved once it settled. */
  async step(): Promise<void> {
    const roll = this.rng.next();
    if (roll < 0.6) return void (await this.send());
    if (roll < 0.7) return this.join(this.rng.pick(ROOMS.filter((r) => r !== this.client.room)));
    if (roll < 0.8) return this.dm();
    if (roll < 0.9) return this.who();
    if (roll < 0.99) return this.reconnect();
    return this.quit();
  }

  /** Sends one message to the current room; `final` marks the convergence round's. */
  async send(final = false): Promise<boolean> {
    const n = ++this.ops;
    const text = `${this.label}#${n}${final ? ' final' : ''} ${'x'.repeat(this.rng.int(0, 40))}`;
    const room = this.client.room;
    this.recorder.add({
      c: this.label,
      k: 'op',
      n,
      op: 'send',
      room,
      text,
      ...(final ? { final: true } : {}),
    });
    const outcome = await this.unlessOver(this.client.send(text));
    this.settle(n, 'send', outcome, (v) => ({
      room,
      seq: v.seq,
      id: v.id,
      ...(v.epoch === undefined ? {} : { epoch: v.epoch }),
    }));
    return outcome?.ok === true;
  }

  quit(): void {
    this.recorder.add({ c: this.label, k: 'op', n: ++this.ops, op: 'quit' });
    this.client.quit();
  }

  private async join(room: string): Promise<void> {
    const n = ++this.ops;
    this.recorder.add({ c: this.label, k: 'op', n, op: 'join', room });
    const outcome = await this.unlessOver(this.client.join(room));
    this.settle(n, 'join', outcome, (v) => ({ room: v.room, seq: v.seq }));
  }

  private async dm(): Promise<void> {
    const to = this.rng.pick([...this.peers(), this.name]);
    if (to === this.name) return;
    const n = ++this.ops;
    const text = `${this.label}#${n} dm`;
    this.recorder.add({ c: this.label, k: 'op', n, op: 'dm', to, text });
    const outcome = await this.unlessOver(this.client.dm(to, text));
    this.settle(n, 'dm', outcome, (v) => ({ seq: v.seq, id: v.id, conversation: v.conversation }));
  }

  private async who(): Promise<void> {
    const n = ++this.ops;
    this.recorder.add({ c: this.label, k: 'op', n, op: 'who' });
    const outcome = await this.unlessOver(this.client.who());
    this.settle(n, 'who', outcome, (v) => ({ room: v.room, members: v.members }));
  }

  /** Drops this client's connections, as a network blip would: it fails over and resumes. */
  private reconnect(): void {
    this.recorder.add({ c: this.label, k: 'op', n: ++this.ops, op: 'reconnect' });
    for (const proxy of this.proxies) proxy.reset();
  }

  /**
   * The request's outcome, or undefined if the session ends first: the client drops requests
   * still queued when it ends (see Outbox.close), so they would never settle.
   */
  private unlessOver<T>(request: Promise<Outcome<T>>): Promise<Outcome<T> | undefined> {
    return Promise.race([request, this.done.then(() => undefined)]);
  }

  private settle<T>(
    n: number,
    op: OpKind,
    outcome: Outcome<T> | undefined,
    fields: (value: T) => Record<string, unknown>,
  ): void {
    if (outcome === undefined) return;
    if (outcome.ok) {
      this.recorder.add({ c: this.label, k: 'ok', n, op, ...fields(outcome.value) });
    } else if (outcome.error.code === 'RECORDS_LOST') {
      const { message } = outcome.error;
      this.recorder.add({ c: this.label, k: 'unsure', n, op, message });
    } else {
      const error: ChatError = outcome.error;
      this.recorder.add({
        c: this.label,
        k: 'fail',
        n,
        op,
        code: error.code,
        message: error.message,
      });
    }
  }

  private record(event: ClientEvent): void {
    const c = this.label;
    const node = this.node;
    const r = this.recorder;
    switch (event.type) {
      case 'welcome': {
        const { welcome } = event;
        this.node = welcome.node;
        r.add({
          c,
          k: 'welcome',
          node: welcome.node,
          user: welcome.user,
          room: welcome.room,
          again: event.reconnected,
        });
        break;
      }
      case 'message': {
        const m = event.message;
        r.add({
          c,
          k: 'msg',
          node,
          room: m.room,
          seq: m.seq,
          id: m.id,
          from: m.from,
          text: m.text,
          ...(m.history ? { history: true } : {}),
        });
        break;
      }
      case 'dm': {
        const m = event.message;
        r.add({
          c,
          k: 'dm',
          node,
          conversation: m.conversation,
          seq: m.seq,
          id: m.id,
          from: m.from,
          to: m.to,
          text: m.text,
        });
        break;
      }
      case 'joined':
        r.add({ c, k: 'joined', node, room: event.notice.room, user: event.notice.user });
        break;
      case 'left': {
        const { notice } = event;
        r.add({
          c,
          k: 'left',
          node,
          room: notice.room,
          user: notice.user,
          reason: notice.reason,
          ...(notice.to === undefined ? {} : { to: notice.to }),
        });
        break;
      }
      case 'synced': {
        const s = event.synced;
        r.add({
          c,
          k: 'synced',
          node,
          room: s.room,
          seq: s.seq,
          lost: s.lost,
          ...(s.epoch === undefined ? {} : { epoch: s.epoch }),
          ...(s.restarted ? { restarted: true } : {}),
        });
        break;
      }
      case 'gap':
        r.add({ c, k: 'gap', node, room: event.gap.room, from: event.gap.from, to: event.gap.to });
        break;
      case 'connection-lost':
        r.add({ c, k: 'lost', node, reason: event.reason });
        break;
      case 'server-error':
      case 'waiting':
        break;
    }
  }
}
