import { randomBytes } from 'node:crypto';
import {
  parseJoin,
  parseRooms,
  parseSend,
  parseWho,
  type Ack,
  type ClientEventName,
  type ClientToServerEvents,
  type JoinResult,
  type Result,
  type RoomsResult,
  type SendResult,
  type WhoResult,
} from '@chat/protocol';
import { ENVELOPE_VERSION } from '../broker/envelope';
import { addressRateLimit, type GatewayContext, userRateLimit } from '../context';
import { ClientError, clientError, rethrowWriteFailure } from '../errors';
import { INJECTED_BUG } from '../injected-bug';
import type { LocalSession } from './registry';
import { joinRoom } from '../delivery/room-sync';
import { dm, dms, history } from './dm-handlers';
import { search } from './archive-handlers';

/** Message ids: unique per node boot, so also across restarts of a node with a fixed NODE_ID. */
export function messageIds(nodeId: string): () => string {
  const prefix = `${nodeId}.${randomBytes(3).toString('hex')}.`;
  let counter = 0;
  return () => prefix + (++counter).toString(36);
}

type Handler<T> = (ctx: GatewayContext, session: LocalSession, payload: unknown) => Promise<T>;

function valid<T>(result: Result<T>): T {
  if (!result.ok) throw new ClientError(result.error);
  return result.value;
}

const send: Handler<SendResult> = async (ctx, session, payload) => {
  const request = valid(parseSend(payload));
  const room = session.room;
  if (room === undefined || (request.room !== undefined && request.room !== room)) {
    throw clientError('NOT_JOINED', `not in room '${request.room ?? ''}'; join it first`);
  }
  ctx.metrics.received.inc();
  const id = ctx.nextMessageId();
  const addressLimit = addressRateLimit(ctx, session);
  const cid = INJECTED_BUG === 'skip-cid-dedupe' ? undefined : request.cid;
  const outcome = await ctx.bus
    .append(
      {
        v: ENVELOPE_VERSION,
        type: 'message',
        origin: ctx.nodeId,
        id,
        room,
        from: session.user,
        sid: session.sid,
        text: request.text,
        ts: Date.now(),
        ...(cid === undefined ? {} : { cid }),
      },
      {
        ...(cid === undefined ? {} : { cid }),
        limit: userRateLimit(ctx, session.user),
        ...(addressLimit === undefined ? {} : { addressLimit }),
        // This node is subscribed to the room: its delivered seq is a floor no broker reset
        // can take the room's counter below.
        floor: ctx.relay.delivered(room),
        ...(request.generation === undefined ? {} : { firstGeneration: request.generation }),
      },
    )
    .catch((error: unknown) =>
      rethrowWriteFailure(error, request.cid, ctx.logger, { event: 'send', user: session.user }),
    );
  switch (outcome.status) {
    case 'stored':
      ctx.metrics.published.inc();
      ctx.relay.feed(room)?.learnEpoch(outcome.epoch);
      return { id, seq: outcome.seq, epoch: outcome.epoch };
    case 'duplicate':
      return { id: outcome.id, seq: outcome.seq };
    case 'rate-limited':
      throw clientError('RATE_LIMITED');
    case 'rooms-full':
      throw clientError('RATE_LIMITED', 'no more rooms can keep history now; use an existing room');
    case 'unsure':
      throw clientError('RECORDS_LOST');
  }
};

const join: Handler<JoinResult> = async (ctx, session, payload) => {
  const request = valid(parseJoin(payload));
  return joinRoom(ctx, session, request.room, request.since, 'request', request.epoch);
};

const who: Handler<WhoResult> = async (ctx, session, payload) => {
  const room = valid(parseWho(payload)).room ?? session.room;
  if (room === undefined) throw clientError('NOT_JOINED', 'not in a room; name one');
  const members = await ctx.state.members(room);
  members.sort((a, b) => a.name.localeCompare(b.name) || a.id - b.id);
  return { room, members };
};

const rooms: Handler<RoomsResult> = async (ctx, _session, payload) => {
  valid(parseRooms(payload));
  return { rooms: await ctx.state.rooms() };
};

/** The client events and what answers them; each resolves to the ack's payload. */
export const HANDLERS: { [E in ClientEventName]: Handler<AckPayload<E>> } = {
  send,
  join,
  dm,
  who,
  rooms,
  history,
  dms,
  search,
};

/** What the ack of client event E carries on success, read off the protocol's event types. */
type AckPayload<E extends ClientEventName> = E extends ClientEventName
  ? Parameters<ClientToServerEvents[E]>[1] extends (response: Ack<infer T>) => void
    ? T
    : never
  : never;

/** Any ack a handler's caller may send. */
export type AnyAck = Ack<AckPayload<ClientEventName>>;
