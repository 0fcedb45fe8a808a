import type { ErrorCode } from '@chat/protocol';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The gateway's Prometheus metrics, on a registry of its own (several gateways can share a
 * process in tests). Every name starts with `chat_`; process metrics come with `chat_process_`.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly clients = new Gauge({
    name: 'chat_connected_clients',
    help: 'Clients connected to this node',
    registers: [this.registry],
  });
  readonly engineSockets = new Gauge({
    name: 'chat_engine_sockets',
    help: 'Engine.IO sockets held by this node, including those that have not joined the chat',
    registers: [this.registry],
  });
  readonly received = new Counter({
    name: 'chat_messages_received_total',
    help: "Room messages accepted from this node's clients",
    registers: [this.registry],
  });
  readonly published = new Counter({
    name: 'chat_messages_published_total',
    help: 'Room messages stored and published to the bus by this node',
    registers: [this.registry],
  });
  readonly delivered = new Counter({
    name: 'chat_messages_delivered_total',
    help: 'Room messages written to local sockets (one per recipient)',
    registers: [this.registry],
  });
  readonly relayLatency = new Histogram({
    name: 'chat_relay_latency_seconds',
    help: 'From acceptance on the sending node to delivery on this node',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly busUp = new Gauge({
    name: 'chat_redis_up',
    help: '1 while the message bus (Redis) is connected and subscribed',
    registers: [this.registry],
  });
  readonly ready = new Gauge({
    name: 'chat_ready',
    help: '1 while /readyz reports ready',
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'chat_errors_total',
    help: 'Errors returned to clients, by code',
    labelNames: ['code'],
    registers: [this.registry],
  });
  readonly slowConsumers = new Counter({
    name: 'chat_slow_consumers_dropped_total',
    help: 'Clients disconnected because their outgoing buffer passed the bound',
    registers: [this.registry],
  });
  readonly repairs = new Counter({
    name: 'chat_room_repairs_total',
    help: 'Room feeds caught up from the stored log after missing pub/sub messages',
    registers: [this.registry],
  });
  readonly lost = new Counter({
    name: 'chat_messages_lost_total',
    help: 'Messages a node could not recover because they left the history window',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'chat_process_' });
  }

  error(code: ErrorCode): void {
    this.errors.inc({ code });
  }
}
