import { validateName } from '@chat/protocol';
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { clientError, ClientError } from '../errors';

/** What a valid token proves: a stable subject and the name to show. */
export interface Principal {
  subject: string;
  name: string;
}

export type Authenticate = (token: string | undefined) => Promise<Principal>;

export interface AuthOptions {
  /** HS256 shared secret. */
  secret?: string;
  /** URL of a JWKS (RS256/ES256 and friends). */
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  /** Refuse tokens without an `exp` claim (a token that never expires). @default true */
  requireExp?: boolean;
  /**
   * Clock difference tolerated between the token's issuer and this node, in seconds: `iat` or
   * `nbf` further in the future, or `exp` further in the past, is refused. @default 30
   */
  clockSkewS?: number;
}

/** @see AuthOptions.clockSkewS */
const DEFAULT_CLOCK_SKEW_S = 30;

/**
 * JWT authentication of the handshake: the token must verify against the secret or the JWKS
 * and be current (an `exp`, unless `requireExp` is false; no `iat`/`nbf` beyond the clock skew
 * ahead); its `name` claim (or else its subject) becomes the user's name. Every failure is
 * UNAUTHORIZED (not retryable: a client must not loop on it).
 */
export function jwtAuthenticator(options: AuthOptions): Authenticate {
  const key: Uint8Array | JWTVerifyGetKey = options.jwksUrl
    ? createRemoteJWKSet(new URL(options.jwksUrl))
    : new TextEncoder().encode(options.secret ?? '');
  return async (token) => {
    if (!token) throw clientError('UNAUTHORIZED', 'this cluster requires a token (auth.token)');
    let payload;
    try {
      ({ payload } =
        key instanceof Uint8Array
          ? await jwtVerify(token, key, verifyOptions(options, ['HS256']))
          : await jwtVerify(token, key, verifyOptions(options)));
    } catch (error) {
      const reason = error instanceof Error ? error.message : 'invalid token';
      throw clientError('UNAUTHORIZED', `token refused: ${reason}`);
    }
    // jose checks a future `iat` only with maxTokenAge: a token "issued" tomorrow is a forgery
    // or a broken issuer clock, and would outlive its intended lifetime.
    const skew = options.clockSkewS ?? DEFAULT_CLOCK_SKEW_S;
    if (typeof payload.iat === 'number' && payload.iat > Date.now() / 1000 + skew) {
      throw clientError('UNAUTHORIZED', 'token refused: "iat" is in the future');
    }
    const subject = payload.sub;
    if (!subject) throw clientError('UNAUTHORIZED', 'token has no subject');
    const claimed = typeof payload.name === 'string' ? payload.name : subject;
    const name = validateName(claimed);
    if (!name.ok) throw new ClientError(name.error);
    return { subject, name: name.value };
  };
}

function verifyOptions(options: AuthOptions, algorithms?: string[]) {
  return {
    ...(options.issuer ? { issuer: options.issuer } : {}),
    ...(options.audience ? { audience: options.audience } : {}),
    ...(algorithms ? { algorithms } : {}),
    requiredClaims: options.requireExp === false ? [] : ['exp'],
    clockTolerance: options.clockSkewS ?? DEFAULT_CLOCK_SKEW_S,
  };
}
