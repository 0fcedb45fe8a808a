import type { Redis } from 'ioredis';
import type { Logger } from '../../logger';
import { connectionOptions, RESUBSCRIBE_BATCH, type LinkEvents, type RedisLink } from './link';
import { openRedis, type RedisTarget } from './redis-target';
import type { LoadableScript } from './scripts/lua-script';

/**
 * One Redis (a server, or a Sentinel group's master): a command connection (commands written in
 * the order issued, one turn's together: see coalesce) and a subscription connection; the scripts
 * are loaded on each `ready`, every wanted channel re-subscribed after each reconnect.
 */
export class SingleLink implements RedisLink {
  readonly commands: Redis;
  readonly publishCommand = 'PUBLISH';
  private readonly subscriber: Redis;
  /** Channels this node wants; re-subscribed after every reconnect. */
  private readonly channels = new Set<string>();
  private subscribed = false;
  private scriptsLoaded = false;
  /** Behind Sentinel: the run id of the master the command connection last reached. */
  private serverId: string | undefined;
  private readonly watchServer: boolean;
  /** Commands issued in this turn of the event loop (see coalesce). */
  private inTurn = 0;
  /** The command socket held corked until the end of this turn, if any. */
  private corked: { uncork(): void } | undefined;
  private readonly endTurn = (): void => {
    this.inTurn = 0;
    this.corked?.uncork();
    this.corked = undefined;
  };

  constructor(
    target: Exclude<RedisTarget, { kind: 'cluster' }>,
    commandTimeoutMs: number,
    private readonly scripts: readonly LoadableScript[],
    private readonly events: LinkEvents,
    private readonly logger: Logger,
  ) {
    this.watchServer = target.kind === 'sentinel';
    const base = connectionOptions(commandTimeoutMs);
    this.commands = openRedis(target, base);
    this.subscriber = openRedis(target, base);
    for (const [role, redis] of [
      ['commands', this.commands],
      ['subscriber', this.subscriber],
    ] as const) {
      redis.on('error', (error: Error) => {
        logger.debug({ role, err: error.message }, 'redis connection error');
        events.failed(error.message);
      });
      redis.on('close', () => {
        if (this.watchServer && role === 'commands') events.serverUnknown();
        this.subscribed = this.subscribed && this.subscriber.status === 'ready';
        events.lost(`${role} connection closed`);
      });
    }
    this.commands.on('ready', () => void this.loadScripts());
    this.subscriber.on('ready', () => void this.resubscribe());
    this.subscriber.on('message', (channel: string, payload: string) =>
      events.message(channel, payload),
    );
  }

  connect(): void {
    if (this.watchServer) this.events.serverUnknown();
    for (const redis of [this.commands, this.subscriber]) {
      redis
        .connect()
        .catch((error: unknown) =>
          this.logger.debug({ err: String(error) }, 'redis connect attempt failed'),
        );
    }
  }

  /**
   * The first command of a turn is written at once (most turns carry one: a client's send); the
   * socket is then corked until the end of the turn, so the others go in one write after it, in
   * order. ioredis' auto-pipelining did this with a Pipeline, its promise and a string copy per
   * turn: 43-63 against 22 µs of client CPU per script call at one per turn, 15 against 11 at
   * four (BENCHMARKS.md, "Hot path, per message").
   */
  coalesce(): void {
    if (this.inTurn++ === 0) {
      process.nextTick(this.endTurn);
      return;
    }
    if (this.corked === undefined && this.commands.status === 'ready') {
      const stream = this.commands.stream;
      stream.cork();
      this.corked = stream;
    }
  }

  isReady(): boolean {
    return (
      this.subscribed &&
      this.scriptsLoaded &&
      this.commands.status === 'ready' &&
      this.subscriber.status === 'ready'
    );
  }

  async subscribe(channel: string): Promise<void> {
    this.channels.add(channel);
    try {
      await this.subscriber.subscribe(channel);
    } catch (error) {
      this.channels.delete(channel);
      throw error;
    }
  }

  async unsubscribe(channel: string): Promise<void> {
    this.channels.delete(channel);
    // While disconnected there is nothing to undo: resubscribe() skips dropped channels.
    if (this.subscriber.status === 'ready') {
      await this.subscriber.unsubscribe(channel).catch(() => undefined);
    }
  }

  shards(): string[] {
    return [''];
  }

  async close(): Promise<void> {
    this.channels.clear();
    const clients = [this.commands, this.subscriber];
    await Promise.all(clients.map((redis) => redis.quit().catch(() => undefined)));
    for (const redis of clients) redis.disconnect();
  }

  /** (Re)subscribes every wanted channel; only then is the node back in the conversation. */
  private async resubscribe(): Promise<void> {
    const channels = [...this.channels];
    try {
      for (let i = 0; i < channels.length; i += RESUBSCRIBE_BATCH) {
        await this.subscriber.subscribe(...channels.slice(i, i + RESUBSCRIBE_BATCH));
      }
    } catch (error) {
      this.logger.debug({ err: String(error) }, 'resubscribe failed; will retry');
      return;
    }
    this.subscribed = true;
    this.events.ready();
  }

  /**
   * Behind Sentinel, on every (re)connect and before the link counts as ready: a master with
   * another run id than the last one is another server (a promoted replica, or a restart). Its
   * replication was asynchronous, so it may lack the last writes the old one acknowledged, and
   * its data shows no sign of it when our marks had been copied: it counts as a possible loss.
   * Fenced writes wait for this answer (see LinkEvents.serverUnknown).
   */
  private async noteServer(): Promise<void> {
    const info = await this.commands.info('server');
    const runId = /^run_id:(\w+)/m.exec(info)?.[1];
    const before = this.serverId;
    if (runId !== undefined) this.serverId = runId;
    if (runId !== undefined && before !== undefined && before !== runId) {
      this.events.serverChanged(
        `redis master changed (run id ${before.slice(0, 8)} -> ${runId.slice(0, 8)})`,
      );
    }
    this.events.serverNoted();
  }

  private async loadScripts(): Promise<void> {
    this.scriptsLoaded = false;
    try {
      if (this.watchServer) await this.noteServer();
      await Promise.all(this.scripts.map((s) => this.commands.script('LOAD', s.source)));
      this.scriptsLoaded = true;
      this.events.ready();
    } catch (error) {
      this.logger.debug({ err: String(error) }, 'loading scripts failed; will retry');
      setTimeout(() => {
        if (this.commands.status === 'ready' && !this.scriptsLoaded) void this.loadScripts();
      }, 500).unref();
    }
  }
}
