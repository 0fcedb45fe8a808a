import { pino, type Logger } from 'pino';
import type { LogLevel } from './config';

export type { Logger };

/**
 * The one logger of a gateway: JSON lines on stdout, every line carrying the node id. Library
 * code receives a child of it and never prints by other means.
 */
export function createLogger(nodeId: string, level: LogLevel): Logger {
  return pino({ level, base: { node: nodeId }, timestamp: pino.stdTimeFunctions.isoTime });
}
