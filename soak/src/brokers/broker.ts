import type { Rng } from '../rng';

/** Faults a broker can suffer, each one injected and undone by `fault`. */
export type BrokerFault =
  /** SIGKILL, then a restart on what the disk kept (the append-only file: nothing lost). */
  | 'redis-kill'
  /** A clean SHUTDOWN (everything saved) and a restart. */
  | 'redis-restart'
  /** SIGKILL and a restart with no data at all. */
  | 'redis-empty'
  /** SIGKILL and a restart from a snapshot taken seconds earlier: a rollback. */
  | 'redis-old'
  /** Sentinel (or Cluster) promotes a replica; the old master comes back as a replica. */
  | 'failover';

/**
 * One broker backend the soak runs on: how to start it, what gateways are given to reach it,
 * and the faults it knows. Each is a small object; `--broker` picks one.
 */
export interface Broker {
  readonly name: string;
  /** The faults `fault` accepts. */
  readonly faults: readonly BrokerFault[];
  /**
   * Whether gateways reach the broker through one address the harness can put a proxy in
   * front of (network faults between a gateway and Redis). Sentinel hands out the servers'
   * own addresses, so there it is false.
   */
  readonly proxied: boolean;
  start(): Promise<void>;
  /** The port a gateway's Redis proxy forwards to now (undefined while the broker is down). */
  port(): number | undefined;
  /** Environment for a gateway; `proxyPort` is its own Redis proxy when `proxied`. */
  gatewayEnv(proxyPort: number | undefined): Record<string, string>;
  /**
   * Injects `kind` and resolves once the broker is back (the fault healed); returns what was
   * done. Calls `begin` the moment it breaks something; throws FaultNotNow before that when the
   * broker cannot take this fault yet (the runner tries again later).
   */
  fault(kind: BrokerFault, rng: Rng, begin: () => void): Promise<string>;
  /** Called every few seconds: keep what a later `redis-old` restarts from. */
  snapshot(): Promise<void>;
  stop(): Promise<void>;
  /** SIGKILLs every process at once, synchronously (the harness itself is being stopped). */
  abort(): void;
}

/** Thrown by `fault` when the broker cannot take that fault right now (retried later). */
export class FaultNotNow extends Error {}
