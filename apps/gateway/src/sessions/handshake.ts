import { randomBytes } from 'node:crypto';
import { parseHandshake, type ChatError } from '@chat/protocol';
import type { Admission } from './admission';
import type { Authenticate } from './auth';
import { ClientError, clientError, toChatError } from '../errors';
import { type GatewayContext, userLock } from '../context';
import type { ResumeRecord } from '../broker/cluster-state';
import type { ChatSocket, Identity } from './socket';
import { clientAddress } from './client-address';
import { nameTaken } from './name-taken';

type ConnectError = Error & { data?: ChatError };

function connectError(error: ChatError): ConnectError {
  const failure: ConnectError = new Error(error.message);
  failure.data = error;
  return failure;
}

/**
 * Socket.IO middleware: validates the handshake, authenticates, resumes or allocates the user,
 * and opens the session cluster-wide (claiming the name). A refusal reaches the client as
 * `connect_error` with `data` = { code, message, retryable }.
 */
export function handshakeMiddleware(
  ctx: GatewayContext,
  admission: Admission,
  authenticate?: Authenticate,
) {
  // The node's capacity and the per-address cap on waiting sockets were applied before the
  // socket existed (Admission.allowRequest); the per-address rate is taken here, coded.
  return (socket: ChatSocket, next: (error?: Error) => void): void => {
    const refused = admission.takeConnectToken(socket.request) ?? ctx.joins.takeReplay(socket);
    if (refused) {
      ctx.metrics.error(refused.code);
      next(connectError(refused));
      return;
    }
    identify(ctx, socket, authenticate).then(
      (identity) => {
        socket.data.identity = identity;
        next();
      },
      (error: unknown) =>
        next(connectError(toChatError(error, ctx.logger, { phase: 'handshake' }))),
    );
  };
}

async function identify(
  ctx: GatewayContext,
  socket: ChatSocket,
  authenticate: Authenticate | undefined,
): Promise<Identity> {
  if (ctx.isDraining()) {
    throw clientError('UNAVAILABLE', 'this node is shutting down; connect to another');
  }
  const parsed = parseHandshake(socket.handshake.auth);
  if (!parsed.ok) throw new ClientError(parsed.error);
  const handshake = parsed.value;
  const principal = authenticate ? await authenticate(handshake.token) : undefined;
  const record = handshake.resume ? await resumed(ctx, handshake.resume) : undefined;
  // A resume token is bound to the subject that opened the session: another subject (whatever
  // name it claims) is refused rather than let it take over, or read, someone else's session.
  if (record && principal && record.subject !== principal.subject) {
    throw clientError('UNAUTHORIZED', 'this resume token belongs to another user');
  }
  let identity: Identity;
  if (record && (principal === undefined || principal.name === record.user.name)) {
    identity = { ...record, resumeToken: handshake.resume ?? '', handshake };
  } else {
    // An authenticated subject is one user in all its sessions; anyone else is new each time.
    const id = principal
      ? await ctx.state.subjectUserId(principal.subject)
      : await ctx.state.nextUserId();
    const fresh = {
      user: { id, name: principal?.name ?? handshake.name ?? `User ${id}` },
      sid: randomBytes(8).toString('base64url'),
      ...(principal ? { subject: principal.subject } : {}),
    };
    identity = {
      ...fresh,
      resumeToken: ctx.resumeTokens.issue(fresh, ctx.config.resumeTtlMs),
      handshake,
    };
  }
  const session = { nodeId: ctx.nodeId, key: socket.id, user: identity.user };
  const opened = await ctx.lock.run(userLock(identity.user), () =>
    ctx.state.openSession(session, ctx.config.nameTtlMs),
  );
  if (!opened) {
    const address = clientAddress(socket.handshake, ctx.config.trustProxy);
    throw new ClientError(
      await nameTaken(ctx.state, identity.user, address, principal === undefined),
    );
  }
  return identity;
}

/**
 * What a resume token stands for: its record in the broker, else (the broker lost it) what the
 * token itself says, if this cluster signed it (see ResumeTokens). The id counter is then raised
 * to the user's id, so that a counter the loss took back never hands it to someone else. A node
 * that started moments ago and does not know the token's key yet asks the client to retry.
 */
async function resumed(ctx: GatewayContext, token: string): Promise<ResumeRecord | undefined> {
  const record = await ctx.state.loadResume(token);
  if (record) return record;
  const signed = ctx.resumeTokens.verify(token);
  if (signed) await ctx.state.raiseUserIds(signed.user.id);
  else if (ctx.resumeTokens.mayLearnKey(token)) {
    throw clientError(
      'UNAVAILABLE',
      'this node has just started and cannot read your resume token yet; retry',
    );
  }
  return signed;
}
