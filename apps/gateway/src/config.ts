import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { DEFAULT_QUIET_ABOVE } from './broker/quiet-rooms';
import { NODE_ID_PATTERN } from './broker/topics';
import { archiveSettings, type ArchiveSettings } from './config-archive';
import { redisSettings, type RedisSettings } from './config-redis';
import { ConfigError, flag, integer, optional, optionalInteger, type Env } from './config-values';

export { ConfigError } from './config-values';
export type { SentinelAddress } from './config-redis';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Every setting of a gateway, read from the environment by {@link loadConfig}. */
export interface GatewayConfig extends RedisSettings, ArchiveSettings {
  /** HTTP and Socket.IO port. @default 3000 */
  port: number;
  /** Interface to listen on. @default '0.0.0.0' */
  host: string;
  /** Prefix of every Redis key and channel. @default 'chat' */
  redisPrefix: string;
  /** Unique id of this node. @default host name plus a short random suffix */
  nodeId: string;
  /** @default 'info' */
  logLevel: LogLevel;
  /** Messages kept per room for history and resume. @default 1_000 */
  historyLimit: number;
  /** Messages kept per private conversation (oldest go first). @default 1_000 */
  dmHistoryLimit: number;
  /** Messages a client receives when it joins a room without `since`. @default 50 */
  historyOnJoin: number;
  /** Messages in one page of history or replay (one Redis call). @default 100 */
  historyPageMessages: number;
  /** Stored KiB in one page of history or replay; bounds how long one read holds Redis. @default 256 */
  historyPageKb: number;
  /** History pages one node reads from Redis at once; identical reads are shared. @default 2 */
  historyReadsPerNode: number;
  /** Recent messages a node keeps in memory per subscribed room, in KiB (joins served from it). @default 256 */
  historyMemoryKb: number;
  /** Bound on those windows' total per node, in MiB. @default 64 */
  historyMemoryMb: number;
  /** Joins per second per user on each node (a handshake's first join included). @default 2 */
  joinRatePerSecond: number;
  /** Burst of the per-user join budget. @default 10 */
  joinBurst: number;
  /** Joins and handshakes with `since` per second per client address. @default 10 */
  replayRatePerIp: number;
  /** Burst of the per-address replay budget. @default 60 */
  replayBurstPerIp: number;
  /** `joined`/`left` notices per second shown for one user in one room. @default 2 */
  presenceRatePerSecond: number;
  /** Burst of that budget (ordinary comings and goings are never held). @default 5 */
  presenceBurst: number;
  /**
   * Rooms with more members than this are quiet: their joins and leaves are not announced
   * (see broker/quiet-rooms.ts). @default 200
   */
  presenceQuietAbove: number;
  /**
   * V8's old-generation growing factor as a percentage over the live heap after a full GC
   * (`--heap-growing-percent`, set at start-up); 0 leaves V8's own factor (up to 4x). A burst
   * of connects promotes each connect's short-lived objects, and V8 keeps the pages it grew to
   * committed: a small factor collects them sooner (less RSS per connection) at the price of
   * more full GCs (CPU, tail latency). See BENCHMARKS.md, issue 18, memory. @default 0
   */
  heapGrowingPercent: number;
  /** Messages per second per user, across all sessions and nodes. @default 20 */
  ratePerSecond: number;
  /** Burst size of the per-user token bucket. @default 40 */
  rateBurst: number;
  /**
   * Messages per second per client address, shared by every anonymous user from it (on top of
   * each user's own budget; only without authentication). @default 50
   */
  anonRatePerIp: number;
  /** Burst of the per-address bucket of anonymous senders. @default 100 */
  anonBurstPerIp: number;
  /** A room's stored log (messages and seqs) is deleted after this long without a message. @default 604_800_000 (7 days; env ROOM_TTL_S=604800) */
  roomTtlMs: number;
  /** Rooms with a stored log at most; a message that would start another is refused. @default 10_000 */
  maxRooms: number;
  /** Bytes of stored messages kept per room (oldest go first). @default 1_048_576 (env MAX_ROOM_KB=1024) */
  maxRoomBytes: number;
  /** How long a node's lease lives without a heartbeat (dead-node detection). @default 8_000 */
  nodeTtlMs: number;
  /** Lease of a claimed name, renewed by the owning node. @default 30_000 */
  nameTtlMs: number;
  /** A disconnected user's presence is kept this long for them to come back. @default 5_000 */
  leaveGraceMs: number;
  /** Bound on a graceful shutdown after SIGTERM. @default 10_000 */
  drainTimeoutMs: number;
  /**
   * On SIGTERM, how long to stay unready (refusing new clients) before telling connected ones
   * to move, so a balancer's health check has taken the node out of rotation by then.
   * @default 0
   */
  drainDelayMs: number;
  /** How long a resume token stays valid after its session ends. @default 3_600_000 */
  resumeTtlMs: number;
  /** A Redis command slower than this fails the request with UNAVAILABLE. @default 2_000 */
  commandTimeoutMs: number;
  /** Connections one node holds at most. @default 10_000 */
  maxConnections: number;
  /** New connections per second per client address. @default 20 */
  connRatePerIp: number;
  /** Burst of new connections per client address. @default 100 */
  connBurstPerIp: number;
  /** Sockets one client address may hold before they join the chat. @default 50 */
  maxPendingPerIp: number;
  /**
   * A socket that has not joined the chat (Socket.IO namespace connect, with its token) this
   * long after opening is closed. @default 10_000
   */
  connectTimeoutMs: number;
  /** Serve /metrics on this port (and no longer on the chat port). @default unset */
  metricsPort: number | undefined;
  /**
   * The built web client, served at `/`. @default apps/web/dist of this checkout (the same
   * path from apps/gateway/src and from the bundle in apps/gateway/dist)
   */
  webDir: string;
  /** Take client addresses from X-Forwarded-For (only behind a trusted balancer). @default false */
  trustProxy: boolean;
  /** A client whose unsent output passes this many KiB is cut off. @default 1_024 */
  maxBufferedKb: number;
  /**
   * For clients that take batches, while the node is busy (its event loop working more than half
   * the time): a room's messages go out at most once per this many ms. An idle node sends each
   * message at once. Trades a little latency under load for far fewer frames. @default 5
   */
  batchWindowMs: number;
  /** JWT authentication: HS256 secret (at least 16 characters). @default unset (no auth) */
  authSecret: string | undefined;
  /** JWT authentication: JWKS URL for asymmetric keys. @default unset */
  authJwksUrl: string | undefined;
  /** Required `iss` claim when authenticating. @default unset */
  authIssuer: string | undefined;
  /** Required `aud` claim when authenticating. @default unset */
  authAudience: string | undefined;
  /** Refuse tokens without `exp` (AUTH_REQUIRE_EXP). @default true */
  authRequireExp: boolean;
  /** Clock skew tolerated on `iat`/`nbf`/`exp`, in seconds (AUTH_CLOCK_SKEW_S). @default 30 */
  authClockSkewS: number;
}

function auth(
  env: Env,
): Pick<
  GatewayConfig,
  'authSecret' | 'authJwksUrl' | 'authIssuer' | 'authAudience' | 'authRequireExp' | 'authClockSkewS'
> {
  const authSecret = optional(env, 'AUTH_SECRET');
  const authJwksUrl = optional(env, 'AUTH_JWKS_URL');
  if (authSecret !== undefined && authSecret.length < 16) {
    throw new ConfigError('AUTH_SECRET', '<hidden>', 'at least 16 characters');
  }
  if (authSecret !== undefined && authJwksUrl !== undefined) {
    throw new ConfigError('AUTH_JWKS_URL', authJwksUrl, 'unset when AUTH_SECRET is set (use one)');
  }
  if (authJwksUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(authJwksUrl)) {
    throw new ConfigError('AUTH_JWKS_URL', authJwksUrl, 'an http(s) URL');
  }
  return {
    authSecret,
    authJwksUrl,
    authIssuer: optional(env, 'AUTH_ISSUER'),
    authAudience: optional(env, 'AUTH_AUDIENCE'),
    authRequireExp: flag(env, 'AUTH_REQUIRE_EXP', true),
    authClockSkewS: integer(env, 'AUTH_CLOCK_SKEW_S', 30, 0, 3_600),
  };
}

function defaultNodeId(): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9_.-]/g, '-')
      .slice(0, 48) || 'node';
  return `${host}-${randomBytes(3).toString('hex')}`;
}

export function loadConfig(env: Env = process.env): GatewayConfig {
  const nodeId = env.NODE_ID || defaultNodeId();
  if (!NODE_ID_PATTERN.test(nodeId)) {
    throw new ConfigError('NODE_ID', nodeId, "1-64 of letters, digits, '_', '.', '-'");
  }
  const logLevel = env.LOG_LEVEL || 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', logLevel, `one of ${LOG_LEVELS.join(', ')}`);
  }
  const redisPrefix = env.REDIS_PREFIX || 'chat';
  if (!/^[A-Za-z0-9_.-]{1,32}$/.test(redisPrefix)) {
    throw new ConfigError('REDIS_PREFIX', redisPrefix, "1-32 of letters, digits, '_', '.', '-'");
  }
  const config: GatewayConfig = {
    port: integer(env, 'PORT', 3000, 0, 65_535),
    host: env.HOST || '0.0.0.0',
    ...redisSettings(env),
    ...archiveSettings(env),
    redisPrefix,
    nodeId,
    logLevel: logLevel as LogLevel,
    historyLimit: integer(env, 'HISTORY_LIMIT', 1_000, 1, 1_000_000),
    dmHistoryLimit: integer(env, 'DM_HISTORY_LIMIT', 1_000, 1, 1_000_000),
    historyOnJoin: integer(env, 'HISTORY_ON_JOIN', 50, 0, 1_000_000),
    historyPageMessages: integer(env, 'HISTORY_PAGE_MESSAGES', 100, 1, 100_000),
    historyPageKb: integer(env, 'HISTORY_PAGE_KB', 256, 16, 65_536),
    historyReadsPerNode: integer(env, 'HISTORY_READS_PER_NODE', 2, 1, 1_000),
    historyMemoryKb: integer(env, 'HISTORY_MEMORY_KB', 256, 0, 1_048_576),
    historyMemoryMb: integer(env, 'HISTORY_MEMORY_MB', 64, 0, 65_536),
    joinRatePerSecond: integer(env, 'JOIN_RATE_PER_SEC', 2, 1, 1_000_000),
    joinBurst: integer(env, 'JOIN_BURST', 10, 1, 1_000_000),
    replayRatePerIp: integer(env, 'REPLAY_RATE_PER_IP', 10, 1, 1_000_000),
    replayBurstPerIp: integer(env, 'REPLAY_BURST_PER_IP', 60, 1, 1_000_000),
    presenceRatePerSecond: integer(env, 'PRESENCE_RATE_PER_SEC', 2, 1, 1_000_000),
    presenceBurst: integer(env, 'PRESENCE_BURST', 5, 1, 1_000_000),
    presenceQuietAbove: integer(env, 'PRESENCE_QUIET_ABOVE', DEFAULT_QUIET_ABOVE, 1, 1_000_000_000),
    ratePerSecond: integer(env, 'RATE_PER_SEC', 20, 1, 1_000_000),
    rateBurst: integer(env, 'RATE_BURST', 40, 1, 1_000_000),
    anonRatePerIp: integer(env, 'ANON_RATE_PER_IP', 50, 1, 1_000_000),
    anonBurstPerIp: integer(env, 'ANON_BURST_PER_IP', 100, 1, 1_000_000),
    roomTtlMs: integer(env, 'ROOM_TTL_S', 604_800, 1, 10 * 365 * 86_400) * 1_000,
    maxRooms: integer(env, 'MAX_ROOMS', 10_000, 1, 100_000_000),
    maxRoomBytes: integer(env, 'MAX_ROOM_KB', 1_024, 1, 1_048_576) * 1_024,
    nodeTtlMs: integer(env, 'NODE_TTL_MS', 8_000, 500, 3_600_000),
    nameTtlMs: integer(env, 'NAME_TTL_MS', 30_000, 1_000, 86_400_000),
    leaveGraceMs: integer(env, 'LEAVE_GRACE_MS', 5_000, 0, 600_000),
    drainTimeoutMs: integer(env, 'DRAIN_TIMEOUT_MS', 10_000, 100, 600_000),
    drainDelayMs: integer(env, 'DRAIN_DELAY_MS', 0, 0, 60_000),
    resumeTtlMs: integer(env, 'RESUME_TTL_MS', 3_600_000, 1_000, 30 * 86_400_000),
    commandTimeoutMs: integer(env, 'COMMAND_TIMEOUT_MS', 2_000, 50, 60_000),
    maxConnections: integer(env, 'MAX_CONNECTIONS', 10_000, 1, 1_000_000),
    connRatePerIp: integer(env, 'CONN_RATE_PER_IP', 20, 1, 1_000_000),
    connBurstPerIp: integer(env, 'CONN_BURST_PER_IP', 100, 1, 1_000_000),
    maxPendingPerIp: integer(env, 'MAX_PENDING_PER_IP', 50, 1, 1_000_000),
    connectTimeoutMs: integer(env, 'CONNECT_TIMEOUT_MS', 10_000, 100, 120_000),
    metricsPort: optionalInteger(env, 'METRICS_PORT', 0, 65_535),
    webDir: env.WEB_DIR || fileURLToPath(new URL('../../web/dist', import.meta.url)),
    trustProxy: flag(env, 'TRUST_PROXY'),
    maxBufferedKb: integer(env, 'MAX_BUFFERED_KB', 1_024, 16, 1_048_576),
    batchWindowMs: integer(env, 'BATCH_WINDOW_MS', 5, 0, 1_000),
    heapGrowingPercent: integer(env, 'HEAP_GROWING_PERCENT', 0, 0, 1_000),
    ...auth(env),
  };
  if (config.drainDelayMs >= config.drainTimeoutMs) {
    throw new ConfigError(
      'DRAIN_DELAY_MS',
      String(config.drainDelayMs),
      `less than DRAIN_TIMEOUT_MS (${config.drainTimeoutMs})`,
    );
  }
  if (config.historyOnJoin > config.historyLimit) {
    throw new ConfigError(
      'HISTORY_ON_JOIN',
      String(config.historyOnJoin),
      `at most HISTORY_LIMIT (${config.historyLimit})`,
    );
  }
  return config;
}
