import { createServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import type { AddressInfo } from 'node:net';
import { LIMITS } from '@chat/protocol';
import { Server } from 'socket.io';
import type { Archive } from './archive/archive';
import { ArchiveService } from './archive/archive-service';
import { PgArchive } from './archive/pg-archive';
import type { Broker } from './broker/create-broker';
import { NodeLeases, settleWindowMs } from './cluster/node-leases';
import { ResumeTokens } from './sessions/resume-tokens';
import { Readiness } from './cluster/readiness';
import type { GatewayConfig } from './config';
import type { GatewayContext } from './context';
import { HistoryReader } from './delivery/history-reader';
import { MemoryBudget } from './delivery/recent-window';
import { DmInbox } from './delivery/dm-inbox';
import { Relay } from './delivery/relay';
import { createHttpApp, createMetricsApp, type HttpDeps } from './http/app';
import type { Logger } from './logger';
import { Metrics } from './metrics';
import { Admission } from './sessions/admission';
import { jwtAuthenticator, type Authenticate } from './sessions/auth';
import { Connections } from './sessions/connections';
import { messageIds } from './sessions/handlers';
import { handshakeMiddleware } from './sessions/handshake';
import { JoinBudget } from './sessions/join-budget';
import { KeyedLock } from './sessions/keyed-lock';
import { Registry } from './sessions/registry';
import { SlowConsumerGuard } from './sessions/slow-consumers';
import type { ChatServer } from './sessions/socket';

export interface GatewayDeps extends Broker {
  config: GatewayConfig;
  logger: Logger;
  /** Overrides the JWT authentication that AUTH_SECRET / AUTH_JWKS_URL configure. */
  authenticate?: Authenticate;
  /** Overrides the PostgreSQL archive that DATABASE_URL configures. */
  archive?: Archive;
}

function archiveOf(deps: GatewayDeps): Archive | undefined {
  const { config, logger } = deps;
  if (deps.archive) return deps.archive;
  if (config.databaseUrl === undefined) return undefined;
  return new PgArchive({ url: config.databaseUrl, logger: logger.child({ component: 'archive' }) });
}

function authenticator(deps: GatewayDeps): Authenticate | undefined {
  const { config } = deps;
  if (deps.authenticate) return deps.authenticate;
  if (config.authSecret === undefined && config.authJwksUrl === undefined) return undefined;
  return jwtAuthenticator({
    ...(config.authSecret === undefined ? {} : { secret: config.authSecret }),
    ...(config.authJwksUrl === undefined ? {} : { jwksUrl: config.authJwksUrl }),
    ...(config.authIssuer === undefined ? {} : { issuer: config.authIssuer }),
    ...(config.authAudience === undefined ? {} : { audience: config.authAudience }),
    requireExp: config.authRequireExp,
    clockSkewS: config.authClockSkewS,
  });
}

export interface Gateway {
  readonly http: HttpServer;
  readonly io: ChatServer;
  readonly readiness: Readiness;
  readonly metrics: Metrics;
  /** The port /metrics is served on when METRICS_PORT is set (after `listen`). */
  metricsPort(): number | undefined;
  /** Starts listening on config.port (0: any free port); resolves to the port. */
  listen(): Promise<number>;
  /**
   * Graceful shutdown: not ready, refuse new clients, tell connected ones to go elsewhere, let
   * their grace periods run (bounded by drainTimeoutMs), withdraw from the cluster, close.
   */
  drain(): Promise<void>;
  /** Stops at once, without announcing anything (the cluster reaps this node's sessions). */
  close(): Promise<void>;
}

/** What this file needs of an Engine.IO socket. */
interface EngineSocket {
  /** The upgrade request, until the connection has joined (see below). */
  request: IncomingMessage | undefined;
  once(event: 'close', listener: () => void): unknown;
}

function listenOn(server: HttpServer, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
}

export function createGateway(deps: GatewayDeps): Gateway {
  const { config, bus, state, dms, logger } = deps;
  const registry = new Registry();
  const metrics = new Metrics();
  let draining = false;
  const admission = new Admission({
    maxConnections: config.maxConnections,
    perSecond: config.connRatePerIp,
    burst: config.connBurstPerIp,
    maxPendingPerAddress: config.maxPendingPerIp,
    trustProxy: config.trustProxy,
  });
  const readiness = new Readiness({
    bus,
    nodeId: config.nodeId,
    logger,
    isFull: () => admission.isFull(),
  });
  const http = createServer();
  const metricsHttp = config.metricsPort === undefined ? undefined : createServer();
  const io: ChatServer = new Server(http, {
    transports: ['websocket'],
    allowRequest: admission.allowRequest,
    connectTimeout: config.connectTimeoutMs,
    serveClient: false,
    perMessageDeflate: false,
    maxHttpBufferSize: LIMITS.maxFrameBytes,
    pingInterval: 10_000,
    pingTimeout: 10_000,
  });
  // A page waits for the previous one to drain, so a reader holds about two: keep them well
  // under the slow-consumer cut-off.
  const pageBytes = Math.min(config.historyPageKb, config.maxBufferedKb / 4) * 1024;
  const inbox = new DmInbox(dms, logger);
  const archiveStore = archiveOf(deps);
  const archive: ArchiveService | undefined =
    archiveStore &&
    new ArchiveService(
      {
        archive: archiveStore,
        nodeId: config.nodeId,
        logger: logger.child({ component: 'archive' }),
        registry: metrics.registry,
        epochOf: async (room): Promise<string | undefined> =>
          relay.epoch(room) ?? (await bus.range(room, 0, 0)).epoch,
        rooms: async () => (await state.rooms()).map((r) => r.room),
        range: (room, after, limit) => bus.range(room, after, limit, pageBytes),
        conversations: dms,
      },
      {
        batchSize: config.archiveBatch,
        backlogMax: config.archiveBacklogMax,
        followerDelayMs: config.archiveFollowerDelayMs,
        retentionDays: config.archiveRetentionDays,
        sweepMs: config.archiveSweepMs,
      },
    );
  const relay = new Relay({
    batchWindowMs: config.batchWindowMs,
    presence: { perSecond: config.presenceRatePerSecond, burst: config.presenceBurst },
    recent: {
      maxMessages: config.historyLimit,
      maxBytes: config.historyMemoryKb * 1024,
      budget: new MemoryBudget(config.historyMemoryMb * 1024 * 1024),
    },
    pageBytes,
    bus,
    inbox,
    io,
    registry,
    metrics,
    nodeId: config.nodeId,
    logger,
    onCanary: () => readiness.received(),
    onResumed: () => {
      readiness.nudge();
      void leases.brokerReturned();
    },
    ...(archive && {
      stored: (envelope, epoch) => archive.offer(envelope, epoch),
      storedDm: (envelope) => archive.offer(envelope, undefined),
    }),
  });
  const ctx: GatewayContext = {
    config,
    nodeId: config.nodeId,
    bus,
    state,
    dms,
    archive,
    inbox,
    relay,
    registry,
    history: new HistoryReader(bus, {
      pageMessages: config.historyPageMessages,
      pageBytes,
      concurrency: config.historyReadsPerNode,
    }),
    joins: new JoinBudget({
      perSecond: config.joinRatePerSecond,
      burst: config.joinBurst,
      replaysPerSecond: config.replayRatePerIp,
      replayBurst: config.replayBurstPerIp,
      trustProxy: config.trustProxy,
    }),
    // The live nodes write the keys back within the settle window after a loss.
    resumeTokens: new ResumeTokens(
      config.resumeTtlMs + config.nodeTtlMs,
      settleWindowMs(config.nodeTtlMs),
    ),
    lock: new KeyedLock(),
    logger,
    metrics,
    nextMessageId: messageIds(config.nodeId),
    isDraining: () => draining,
  };
  const connections = new Connections(ctx);
  let generation = bus.generation();
  const leases = new NodeLeases(ctx, {
    onRound: async () => {
      await connections.retryFailedCloses();
      // Sessions stamp their sends' first tries with it (see SendRequest.generation).
      const now = bus.generation();
      if (now === undefined || now === generation) return;
      if (generation !== undefined) connections.tellGeneration(now);
      generation = now;
    },
    inGrace: (key) => connections.inGrace(key),
  });
  const slowConsumers = new SlowConsumerGuard(
    registry,
    metrics,
    logger,
    config.maxBufferedKb * 1024,
  );
  const httpDeps: HttpDeps = {
    nodeId: config.nodeId,
    readiness,
    registry,
    metrics,
    sockets: () => ({ open: admission.sockets, waiting: admission.waiting }),
    busUp: () => bus.isUp(),
    startedAt: Date.now(),
    withMetrics: metricsHttp === undefined,
    webDir: config.webDir,
    auth: config.authSecret !== undefined || config.authJwksUrl !== undefined,
  };
  http.on('request', createHttpApp(httpDeps));
  metricsHttp?.on('request', createMetricsApp(httpDeps));
  bus.setHandler(relay);
  io.use(handshakeMiddleware(ctx, admission, authenticator(deps)));
  // Every engine socket, joined or not, holds its slot until it closes.
  io.engine.on('connection', (raw: EngineSocket) => {
    if (raw.request) raw.once('close', admission.releaser(raw.request));
  });
  io.on('connection', (socket) => {
    const raw = socket.conn as unknown as EngineSocket;
    if (raw.request) admission.joined(raw.request);
    // Nothing needs the upgrade request once the socket has joined (its handshake keeps the
    // headers and address): kept, it would hold about 1 KB per connection for its whole life.
    raw.request = undefined;
    connections.accept(socket);
  });

  async function stop(): Promise<void> {
    leases.close();
    slowConsumers.close();
    readiness.close();
    relay.close();
    await io.close().catch(() => undefined);
    await new Promise((resolve) =>
      metricsHttp?.listening ? metricsHttp.close(resolve) : resolve(undefined),
    );
    await bus.close();
    await state.close();
    await archive?.close();
  }

  return {
    http,
    io,
    readiness,
    metrics,
    metricsPort() {
      return metricsHttp?.listening ? (metricsHttp.address() as AddressInfo).port : undefined;
    },
    async listen() {
      readiness.start();
      slowConsumers.start();
      // Not awaited: the chat does not wait for PostgreSQL (the backlog holds messages meanwhile).
      void archive?.start();
      await leases.start();
      await listenOn(http, config.port, config.host);
      const port = (http.address() as AddressInfo).port;
      if (metricsHttp) await listenOn(metricsHttp, config.metricsPort ?? 0, config.host);
      logger.info(
        {
          port,
          metricsPort: this.metricsPort(),
          bus: config.redisSentinels ? 'redis-sentinel' : config.redisUrl ? 'redis' : 'memory',
        },
        'gateway listening',
      );
      return port;
    },
    async drain() {
      draining = true;
      readiness.drain();
      logger.info({ clients: registry.size }, 'draining');
      const deadline = Date.now() + config.drainTimeoutMs;
      if (config.drainDelayMs > 0) await delay(config.drainDelayMs);
      const retryInMs = 250;
      for (const session of registry.all()) {
        session.socket.emit('draining', { retryInMs });
        session.socket.conn.close();
      }
      // Grace periods end by themselves; whatever is left at the deadline is ended now.
      const budget = Math.max(0, deadline - Date.now() - 1_000);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        connections.idle(),
        new Promise((resolve) => (timer = setTimeout(resolve, budget))),
      ]);
      clearTimeout(timer);
      await connections.flush();
      await archive?.flush(deadline);
      await state
        .leaveCluster(config.nodeId)
        .catch((error: unknown) =>
          logger.warn({ err: String(error) }, 'could not withdraw from the cluster'),
        );
      await stop();
      logger.info('drained');
    },
    async close() {
      connections.abandon();
      await stop();
    },
  };
}
