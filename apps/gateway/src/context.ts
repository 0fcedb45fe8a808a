import type { LeaveReason, UserRef } from '@chat/protocol';
import type { ArchiveService } from './archive/archive-service';
import type { Bus, RateLimit } from './broker/bus';
import type { DmStore } from './broker/dm-store';
import type { DmInbox } from './delivery/dm-inbox';
import { ENVELOPE_VERSION, type JoinedEnvelope } from './broker/envelope';
import type { LeftTemplate, ClusterState, ResumeRecord, SessionRef } from './broker/cluster-state';
import type { GatewayConfig } from './config';
import type { KeyedLock } from './sessions/keyed-lock';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import type { LocalSession, Registry } from './sessions/registry';
import type { Relay } from './delivery/relay';
import { clientAddress } from './sessions/client-address';
import type { HistoryReader } from './delivery/history-reader';
import type { JoinBudget } from './sessions/join-budget';
import type { ResumeTokens } from './sessions/resume-tokens';

/** The parts of a gateway that connection handling works with. */
export interface GatewayContext {
  config: GatewayConfig;
  nodeId: string;
  bus: Bus;
  state: ClusterState;
  dms: DmStore;
  /** The message archive (PostgreSQL), when DATABASE_URL is set. */
  archive: ArchiveService | undefined;
  inbox: DmInbox;
  relay: Relay;
  registry: Registry;
  /** Rooms' logs, a bounded page at a time, for joins and resumes. */
  history: HistoryReader;
  /** What joins may cost per user and per address. */
  joins: JoinBudget;
  /** Issues and verifies resume tokens that outlive their record in the broker. */
  resumeTokens: ResumeTokens;
  /** Per-user lock: a user's connects, joins and leaves happen one at a time, in order. */
  lock: KeyedLock;
  logger: Logger;
  metrics: Metrics;
  /** A new cluster-unique message id. */
  nextMessageId(): string;
  isDraining(): boolean;
}

export function userLock(user: UserRef): string {
  return `user:${user.id}`;
}

export function sessionRef(ctx: GatewayContext, session: LocalSession): SessionRef {
  return {
    nodeId: ctx.nodeId,
    key: session.socket.id,
    user: session.user,
    room: session.room ?? '',
  };
}

/** What the session's resume token stands for (saved on connect, and again after a reset). */
export function resumeRecord(ctx: GatewayContext, session: LocalSession): ResumeRecord {
  return {
    user: session.user,
    sid: session.sid,
    ...(session.subject === undefined ? {} : { subject: session.subject }),
    session: { nodeId: ctx.nodeId, key: session.socket.id },
  };
}

export function joinedEnvelope(ctx: GatewayContext, room: string, user: UserRef): JoinedEnvelope {
  return { v: ENVELOPE_VERSION, type: 'joined', origin: ctx.nodeId, room, user };
}

/** A `left` before its room is known; `to` is where a move went (`reason` 'moved'). */
export function leftTemplate(
  nodeId: string,
  user: UserRef,
  reason: LeaveReason,
  to?: string,
): LeftTemplate {
  const left: LeftTemplate = { v: ENVELOPE_VERSION, type: 'left', origin: nodeId, user, reason };
  return to === undefined ? left : { ...left, to };
}

/** One bucket per user, shared by all their sessions on all nodes. */
export function userRateLimit(ctx: GatewayContext, user: UserRef): RateLimit {
  return {
    bucket: `user:${user.id}`,
    perSecond: ctx.config.ratePerSecond,
    burst: ctx.config.rateBurst,
  };
}

/**
 * Anonymous users cost nothing to create, so without authentication every user from one client
 * address also spends from that address' bucket (shared by all nodes). Undefined with auth on.
 */
export function addressRateLimit(
  ctx: GatewayContext,
  session: LocalSession,
): RateLimit | undefined {
  const { config } = ctx;
  if (config.authSecret !== undefined || config.authJwksUrl !== undefined) return undefined;
  return {
    bucket: `addr:${clientAddress(session.socket.handshake, config.trustProxy)}`,
    perSecond: config.anonRatePerIp,
    burst: config.anonBurstPerIp,
  };
}
