import { describe, expect, it } from 'vitest';
import { MAX_RESUME_KEYS } from '../../src/broker/resume-keys';
import { ResumeTokens } from '../../src/sessions/resume-tokens';

const record = { user: { id: 42, name: 'alice' }, sid: 'sid-a', subject: 'sub-a' };
const HOUR = 3_600_000;

describe('resume tokens that outlive their record in the broker', () => {
  it('another node that learned the signing key reads the user back from the token alone', () => {
    let now = 1_000;
    const issuer = new ResumeTokens(HOUR, 2_500, () => now);
    const other = new ResumeTokens(HOUR, 2_500, () => now);
    const token = issuer.issue(record, HOUR);
    // Before it learned the issuer's key, a token is nothing to it.
    expect(other.verify(token)).toBeUndefined();
    other.learn(issuer.shared());
    expect(other.verify(token)).toEqual(record);
    now += HOUR - 1;
    expect(other.verify(token)).toEqual(record);
    // Good for as long as its record would be, no longer.
    now += 1;
    expect(other.verify(token)).toBeUndefined();
  });

  it('refuses a token whose user, signature or key id was changed, and anything made up', () => {
    const tokens = new ResumeTokens(HOUR, 2_500);
    const token = tokens.issue(record, HOUR);
    const [payload, id, mac] = token.split('.') as [string, string, string];
    const forged = Buffer.from(
      JSON.stringify({ user: { id: 1, name: 'root' }, sid: 's', until: Date.now() + HOUR }),
    ).toString('base64url');
    for (const bad of [
      `${forged}.${id}.${mac}`,
      `${payload}.${id}.${mac.slice(0, -2)}AA`,
      `${payload}.ffffffffffff.${mac}`,
      `${payload}.${id}`,
      `${token}.x`,
      'random-token-from-an-older-gateway',
      '',
    ]) {
      expect(tokens.verify(bad)).toBeUndefined();
    }
  });

  it('forgets keys whose node was not seen for keepMs, and keeps at most the newest 256', () => {
    let now = 10_000_000;
    const node = new ResumeTokens(HOUR, 2_500, () => now);
    const dead = new ResumeTokens(HOUR, 2_500, () => now);
    const token = dead.issue(record, HOUR);
    node.learn(dead.shared());
    now += HOUR - 10;
    node.learn([]);
    expect(node.verify(token)).toEqual(record);
    now += 20;
    node.learn([]);
    expect(node.verify(token)).toBeUndefined();

    const many = Array.from({ length: MAX_RESUME_KEYS + 10 }, (_, i) => ({
      id: `k${i}`,
      secret: `s${i}`,
      seen: now - i,
    }));
    const own = node.issue(record, HOUR);
    node.learn(many);
    const kept = node.shared().map((k) => k.id);
    expect(kept).toHaveLength(MAX_RESUME_KEYS);
    // Its own key always stays (its tokens still verify); the oldest learned ones go.
    expect(node.verify(own)).toEqual(record);
    expect(kept).toContain('k0');
    expect(kept).not.toContain(`k${MAX_RESUME_KEYS - 1}`);
  });

  it('asks for a retry, not a new user, while a node that just started may not know the key yet', () => {
    let now = 1_000;
    const issuer = new ResumeTokens(HOUR, 2_500, () => now);
    const token = issuer.issue(record, HOUR);
    const young = new ResumeTokens(HOUR, 2_500, () => now);
    // Before it read the broker's keys, and for the settle window after.
    expect(young.mayLearnKey(token)).toBe(true);
    young.learn([]);
    now += 2_499;
    expect(young.mayLearnKey(token)).toBe(true);
    now += 1;
    expect(young.mayLearnKey(token)).toBe(false);
    // A key it knows is no reason to wait, whether or not the token verifies.
    const other = new ResumeTokens(HOUR, 2_500, () => now);
    other.learn(issuer.shared());
    expect(other.mayLearnKey(token)).toBe(false);
    expect(other.mayLearnKey('no-dots')).toBe(false);
  });
});
