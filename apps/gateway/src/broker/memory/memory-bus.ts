import type {
  AppendOptions,
  AppendOutcome,
  Bus,
  BusHandler,
  PublishOptions,
  PublishOutcome,
  StoredRange,
} from '../bus';
import { decodeEnvelope, encodeEnvelope, type Envelope, type MessageDraft } from '../envelope';
import type { Topic } from '../topics';
import type { MemoryBroker, MemorySubscriber } from './memory-broker';

/** A node's connection to a {@link MemoryBroker}. Never down: it has no network to lose. */
export class MemoryBus implements Bus, MemorySubscriber {
  private handler: BusHandler | undefined;
  private closed = false;

  constructor(readonly broker: MemoryBroker) {}

  generation(): string {
    return this.broker.generation;
  }

  setHandler(handler: BusHandler): void {
    this.handler = handler;
  }

  /** Called by the broker. Bad payloads are dropped, as from Redis. */
  receive(topic: Topic, payload: string): void {
    if (this.closed) return;
    const envelope = decodeEnvelope(payload);
    if (envelope) this.handler?.envelope(envelope, topic);
  }

  async subscribe(topic: Topic): Promise<void> {
    this.broker.attach(this, topic);
  }

  async unsubscribe(topic: Topic): Promise<void> {
    this.broker.detach(this, topic);
  }

  async publish(
    topic: Topic,
    envelope: Envelope,
    options: PublishOptions = {},
  ): Promise<PublishOutcome> {
    return this.broker.publishOnce(topic, encodeEnvelope(envelope), options);
  }

  async append(draft: MessageDraft, options: AppendOptions = {}): Promise<AppendOutcome> {
    return this.broker.append(draft, options);
  }

  async range(room: string, after: number, limit: number, maxBytes?: number): Promise<StoredRange> {
    return this.broker.range(room, after, limit, maxBytes);
  }

  async latest(room: string, limit: number): Promise<StoredRange> {
    return this.broker.latest(room, limit);
  }

  /** The embedded broker never loses data: nothing to wait for. */
  starting(): boolean {
    return false;
  }

  async raise(room: string, atLeast: number): Promise<number> {
    return this.broker.raise(room, atLeast);
  }

  isUp(): boolean {
    return !this.closed;
  }

  outage(): string | undefined {
    return undefined;
  }

  async probeWrite(): Promise<void> {}

  /** The embedded broker never loses a live node's data: nothing to write back. */
  async restoreSends(): Promise<number> {
    return 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.broker.detachAll(this);
  }
}
