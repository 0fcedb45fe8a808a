import type { BrokerOutcome } from '../errors';

/**
 * ioredis' rejection of a command it never wrote: the connection was not ready and the offline
 * queue is off (see redis-backend's connection options).
 */
const NOT_WRITTEN = "Stream isn't writeable";
/** The cluster client's refusal while it knows no slot map (offline queue off, as above). */
const CLUSTER_NOT_READY = "Cluster isn't ready";
/**
 * The cluster client gave up following MOVED/ASK/TRYAGAIN/CLUSTERDOWN answers (a connection lost
 * in flight is never retried: see ClusterLink), so no attempt ran.
 */
const REDIRECTIONS = 'Too many Cluster redirections';

/**
 * Whether a failed ioredis call can have run on Redis. Only failures that prove the command was
 * never written (not connected) or was answered (an error reply: Redis refused it, e.g. OOM or
 * NOSCRIPT) are `not-run`; a timeout, or a connection lost with the command in flight, is
 * `unknown`, and so is anything this function does not recognise.
 */
export function redisOutcome(error: unknown): BrokerOutcome {
  if (!(error instanceof Error)) return 'unknown';
  if (error.name === 'ReplyError') return 'not-run';
  if (error.message.startsWith(NOT_WRITTEN)) return 'not-run';
  if (error.message.startsWith(CLUSTER_NOT_READY)) return 'not-run';
  if (error.message.startsWith(REDIRECTIONS)) return 'not-run';
  return 'unknown';
}
