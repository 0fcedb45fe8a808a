import { BrokerSettlingError } from '../errors';

/**
 * The broker fence: closes the window in which Redis has lost or rolled back data (restarted
 * empty, FLUSHALL, an older snapshot) and not every node has checked in since.
 *
 * Every room append and user-id allocation carries the mark this node wrote at its last
 * check-in; the script refuses, storing nothing, when the mark Redis holds is missing or older
 * (`forgot`), and this node checks in at once (`onForgot`). The check-in that finds the loss
 * opens, in the same step, a settle window of `settleMs` (one lease round and a margin) during
 * which room appends are refused (`settling`), so every live node has checked in and raised the
 * rooms it follows back above what it delivered before any room takes a new position; the
 * user-id counter is raised above the time in ms in that step.
 *
 * A process that just started has no earlier mark, so its first check-in cannot find a loss
 * that happened before it: for one settle window after that check-in it appends nothing
 * (`settling`), so any older live node has checked in, found the loss and started a new data
 * generation first (see CHECK_IN).
 *
 * On a Redis Cluster only the user-id allocation is fenced (the marks and the counter share the
 * state's slot); a room's keys are on another slot than the marks, so its appends are not.
 */
export class BrokerFence {
  /** The node that checked in ('' before its first check-in). */
  node = '';
  /** The mark it wrote at its last check-in ('' before the first: nothing is fenced by it). */
  mark = '';
  /**
   * The broker's data generation (the cluster epoch) its last check-in found, set in the same
   * step as `mark` ('' before the first check-in). A fenced write that passes knows it is current.
   */
  generation = '';
  /**
   * Why the broker may have lost writes this node has not checked in since, without its marks
   * showing it (see suspect); undefined when there is no such doubt.
   */
  suspicion: string | undefined;
  /**
   * Behind Sentinel: false from the loss of the command connection until the server its new
   * connection reached is known (see serverUnknown).
   */
  private serverKnown = true;
  private listener: (() => void) | undefined;
  /** Until when (ms since the epoch) this process appends nothing: its first settle window. */
  private startedUntil = 0;

  /** The process's first check-in is done: appends wait `settleMs` more (see above). */
  firstCheckIn(settleMs: number): void {
    this.startedUntil = Date.now() + settleMs;
  }

  /** True within the settle window after this process's first check-in. */
  starting(): boolean {
    return Date.now() < this.startedUntil;
  }

  /**
   * The one entry point for "the broker may have lost acknowledged data" that its marks cannot
   * show, e.g. a Sentinel promotion: replication is asynchronous, so the promoted replica may
   * lack the last writes of the old master while holding our mark, copied a second earlier.
   * Until this node's next check-in, fenced writes are refused (`forgot`, and the node checks
   * in at once); that check-in handles it as a loss found: it opens the settle window and the
   * node re-asserts what it owns (see ClusterState.checkIn, `suspected`).
   */
  suspect(reason: string): void {
    this.suspicion = reason;
  }

  /**
   * The command connection was lost: the next one may reach another server (a promoted
   * replica). Until `serverNoted`, fenced writes are refused (`settling`), so none reaches a new
   * master before this node has seen that it is new (and suspects it, see suspect): a write
   * sent while the server is still being asked would be stored in the data generation the
   * promotion may have rolled back.
   */
  serverUnknown(): void {
    this.serverKnown = false;
  }

  /** The server the command connection reached is known (a new one is suspected already). */
  serverNoted(): void {
    this.serverKnown = true;
  }

  /**
   * Throws as a `settling` refusal while the server is not known (see serverUnknown), as a
   * `forgot` refusal while a suspicion waits for its check-in (see suspect).
   */
  guard(): void {
    if (!this.serverKnown) this.refused('settling');
    if (this.suspicion !== undefined) this.refused('forgot');
  }

  /** Called when a write found this node's mark gone: the node should check in now. */
  onForgot(listener: () => void): void {
    this.listener = listener;
  }

  /**
   * Whether a retry whose first attempt was in `firstGeneration` cannot be stored: the broker
   * lost its records since (or this node has not checked in yet), so a `cid` with no record does
   * not tell whether that attempt was stored (see SendRequest.generation).
   */
  unsure(firstGeneration: string | undefined): boolean {
    return firstGeneration !== undefined && firstGeneration !== this.generation;
  }

  /** A fenced write was refused: nothing was stored. Throws what the client is told. */
  refused(reason: 'forgot' | 'settling'): never {
    if (reason === 'forgot') this.listener?.();
    throw new BrokerSettlingError(reason);
  }
}
