import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, eventually, refused, type TestClient } from '../support/client';
import { closeAll, at, memoryCluster, type RunningGateway } from '../support/cluster';

const SECRET = 'a-test-secret-of-enough-length';
let nodes: RunningGateway[] = [];
const clients: TestClient[] = [];

afterEach(async () => {
  await closeAll(clients, nodes);
});

const now = () => Math.floor(Date.now() / 1000);

/** An HS256 token with exactly these claims (no defaults added). */
function token(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(SECRET));
}

const current = (sub: string, name: string) => token({ sub, name, iat: now(), exp: now() + 3_600 });

describe('resume tokens are bound to the subject', () => {
  it("refuses another subject that claims alice's name with alice's resume token; alice keeps her DMs", async () => {
    nodes = await memoryCluster(2, { AUTH_SECRET: SECRET });
    const alice = await connect(at(nodes, 0).url, { token: await current('alice-id', 'alice') });
    const bob = await connect(at(nodes, 0).url, { token: await current('bob-id', 'bob') });
    clients.push(alice, bob);

    // Before: mallory resumed as alice (same id) and received her DMs.
    const attempt = await refused(at(nodes, 1).url, {
      token: await current('mallory', 'alice'),
      resume: alice.welcome.resumeToken,
    });
    expect(attempt).toMatchObject({ code: 'UNAUTHORIZED', retryable: false });

    expect(await bob.request('dm', { to: 'alice', text: 'for alice only' })).toMatchObject({
      ok: true,
    });
    await eventually(() => expect(alice.lines).toContain('[DM from bob] for alice only'));
    expect(alice.socket.connected).toBe(true);
  });

  it('keeps one subject under one name: a second name claim is refused while the first is online', async () => {
    nodes = await memoryCluster(2, { AUTH_SECRET: SECRET });
    const alice = await connect(at(nodes, 0).url, { token: await current('alice-id', 'alice') });
    clients.push(alice);
    // Before: the same subject was online as `alice` and `alice2` at once.
    const second = await refused(at(nodes, 1).url, { token: await current('alice-id', 'alice2') });
    expect(second).toMatchObject({ code: 'NAME_TAKEN', retryable: false });
    expect(second.message).toMatch(/online under another name/);
    // The same name on another node is the same user, as before.
    const again = await connect(at(nodes, 1).url, { token: await current('alice-id', 'alice') });
    clients.push(again);
    expect(again.welcome.user).toEqual(alice.welcome.user);
    // Once every session under the first name is gone, the other name is free for the subject.
    alice.close();
    again.close();
    await eventually(async () => {
      const renamed = await connect(at(nodes, 1).url, {
        token: await current('alice-id', 'alice2'),
      });
      clients.push(renamed);
      expect(renamed.welcome.user).toEqual({ id: alice.welcome.user.id, name: 'alice2' });
    });
  });

  it('lets the same subject resume its own session', async () => {
    nodes = await memoryCluster(2, { AUTH_SECRET: SECRET });
    const first = await connect(at(nodes, 0).url, { token: await current('alice-id', 'alice') });
    const again = await connect(at(nodes, 1).url, {
      token: await current('alice-id', 'alice'),
      resume: first.welcome.resumeToken,
    });
    clients.push(first, again);
    expect(again.welcome.user).toEqual(first.welcome.user);
  });
});

describe('token lifetime claims', () => {
  it('refuses tokens without exp, or issued (iat) or valid (nbf) beyond the clock skew ahead', async () => {
    nodes = await memoryCluster(1, { AUTH_SECRET: SECRET });
    const url = at(nodes, 0).url;
    const unauthorized = { code: 'UNAUTHORIZED', retryable: false };
    // Before: all three were accepted.
    expect(await refused(url, { token: await token({ sub: 'a', iat: now() }) })).toMatchObject(
      unauthorized,
    );
    const dayAhead = { sub: 'b', iat: now() + 86_400, exp: now() + 90_000 };
    expect(await refused(url, { token: await token(dayAhead) })).toMatchObject(unauthorized);
    const notYet = { sub: 'c', nbf: now() + 3_600, exp: now() + 7_200 };
    expect(await refused(url, { token: await token(notYet) })).toMatchObject(unauthorized);

    // Within the default 30 s skew: accepted.
    const slightlyAhead = { sub: 'd', iat: now() + 10, exp: now() + 3_600 };
    clients.push(await connect(url, { token: await token(slightlyAhead) }));
  });

  it('accepts tokens without exp when AUTH_REQUIRE_EXP=false', async () => {
    nodes = await memoryCluster(1, { AUTH_SECRET: SECRET, AUTH_REQUIRE_EXP: 'false' });
    const forever = await connect(at(nodes, 0).url, { token: await token({ sub: 'e' }) });
    clients.push(forever);
    expect(forever.welcome.user.name).toBe('e');
  });
});
