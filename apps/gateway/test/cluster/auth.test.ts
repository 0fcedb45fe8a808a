import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, eventually, refused, texts, type TestClient } from '../support/client';
import { closeAll, at, memoryCluster, type RunningGateway } from '../support/cluster';

const SECRET = 'a-test-secret-of-enough-length';
let nodes: RunningGateway[] = [];
const clients: TestClient[] = [];
let jwks: Server | undefined;

afterEach(async () => {
  await closeAll(clients, nodes);
  await new Promise((resolve) => (jwks ? jwks.close(resolve) : resolve(undefined)));
  jwks = undefined;
});

function hs256(claims: Record<string, unknown>, expires = '1h'): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime(expires)
    .sign(new TextEncoder().encode(SECRET));
}

describe('JWT authentication (AUTH_SECRET)', () => {
  it('takes the name from the token and refuses bad, expired or missing tokens', async () => {
    nodes = await memoryCluster(2, { AUTH_SECRET: SECRET });
    const url = at(nodes, 0).url;
    const alice = await connect(url, {
      token: await hs256({ sub: 'u-1', name: 'alice' }),
      name: 'ignored',
    });
    clients.push(alice);
    expect(alice.welcome.user.name).toBe('alice');
    const bySubject = await connect(url, { token: await hs256({ sub: 'bob' }) });
    clients.push(bySubject);
    expect(bySubject.welcome.user.name).toBe('bob');

    const unauthorized = { code: 'UNAUTHORIZED', message: expect.any(String), retryable: false };
    expect(await refused(url, {})).toEqual(unauthorized);
    expect(await refused(url, { token: 'not.a.jwt' })).toEqual(unauthorized);
    expect(await refused(url, { token: await hs256({ sub: 'late' }, '-1m') })).toEqual(
      unauthorized,
    );
    const forged = await new SignJWT({ sub: 'eve', name: 'eve' })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode('some-other-secret-entirely'));
    expect(await refused(url, { token: forged })).toEqual(unauthorized);
    expect(
      await refused(url, { token: await hs256({ sub: 's', name: 'bad name' }) }),
    ).toMatchObject({
      code: 'INVALID_NAME',
    });
  });

  it('treats every session of one subject as one user: same id and name, DMs reach all', async () => {
    nodes = await memoryCluster(2, { AUTH_SECRET: SECRET });
    const token = await hs256({ sub: 'carol-id', name: 'carol' });
    const laptop = await connect(at(nodes, 0).url, { token });
    const phone = await connect(at(nodes, 1).url, { token });
    const dave = await connect(at(nodes, 1).url, {
      token: await hs256({ sub: 'd', name: 'dave' }),
    });
    clients.push(laptop, phone, dave);
    expect(phone.welcome.user).toEqual(laptop.welcome.user);
    expect(await dave.request('dm', { to: 'carol', text: 'hi both' })).toMatchObject({ ok: true });
    for (const session of [laptop, phone]) {
      await eventually(() => expect(session.lines).toContain('[DM from dave] hi both'));
    }
    await laptop.send('from the laptop');
    await eventually(() => expect(texts(phone)).toEqual(['from the laptop']));
    expect(texts(laptop)).toEqual([]);
    expect(dave.joined.filter((n) => n.user.name === 'carol')).toHaveLength(0);
  });
});

describe('JWT authentication (AUTH_JWKS_URL)', () => {
  it('verifies asymmetric tokens against a JWKS', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' };
    jwks = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks?.listen(0, '127.0.0.1', resolve));
    const port = (jwks.address() as AddressInfo).port;
    nodes = await memoryCluster(1, {
      AUTH_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`,
      AUTH_ISSUER: 'https://issuer.test',
    });
    const sign = (issuer: string) =>
      new SignJWT({ name: 'erin' })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setSubject('erin-id')
        .setIssuer(issuer)
        .setExpirationTime('5m')
        .sign(privateKey);
    const erin = await connect(at(nodes, 0).url, { token: await sign('https://issuer.test') });
    clients.push(erin);
    expect(erin.welcome.user.name).toBe('erin');
    expect(
      await refused(at(nodes, 0).url, { token: await sign('https://other.test') }),
    ).toMatchObject({
      code: 'UNAUTHORIZED',
    });
  });
});
