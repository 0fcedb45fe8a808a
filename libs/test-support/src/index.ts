// Helpers for tests and the bench only (enforced by the type:test-support tag in
// eslint.config.js); application code never imports this library.
export { freePort } from './free-port';
export { NO_DOCKER_MESSAGE, requireDocker } from './docker';
export { adminClient, redisImage, startRedis, startRestartableRedis } from './redis';
export { postgresImage, startPostgres, usePostgres, type TestPostgres } from './postgres';
export {
  CONTAINER_HOOK_TIMEOUT_MS,
  useRedis,
  useRedisCluster,
  useRestartableRedis,
  type RestartableSuiteRedis,
  type SuiteRedis,
} from './redis-hooks';
export { spawnGateway, stopProcesses, type Exit, type GatewayProcess } from './gateway-process';
export {
  useGatewayCluster,
  type GatewayCluster,
  type GatewayClusterOptions,
} from './gateway-cluster';
export {
  NO_REDIS_BINARIES_MESSAGE,
  requireRedisBinaries,
  startRedisServer,
  startSentinel,
  type RedisProcess,
  type RedisServerOptions,
  type SentinelOptions,
} from './redis-process';
export {
  startSentinelGroup,
  type Promotion,
  type SentinelGroup,
  type SentinelGroupOptions,
} from './sentinel-group';
export {
  CHROMIUM,
  inLog,
  joinChat,
  launchChromium,
  logLines,
  openPage,
  say,
  scrollLogToTop,
  see,
  SEE_MS,
} from './browser';
export {
  startRedisCluster,
  type ClusterMaster,
  type RedisClusterGroup,
  type RedisClusterOptions,
} from './redis-cluster';
