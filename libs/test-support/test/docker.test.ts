import { describe, expect, it } from 'vitest';
import { NO_DOCKER_MESSAGE, requireDocker } from '../src/docker';

describe('requireDocker', () => {
  it('fails with the one message saying how to get an engine, keeping the cause', async () => {
    const refused = new Error('connect ENOENT /var/run/docker.sock');
    const failure = await requireDocker(() => Promise.reject(refused)).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toBe(NO_DOCKER_MESSAGE);
    expect((failure as Error).cause).toBe(refused);
    expect(NO_DOCKER_MESSAGE).toMatch(/^No Docker engine reachable: .*infra\/docker-engine\.sh/);
  });

  it('passes when the engine answers (these tests need one)', async () => {
    await expect(requireDocker()).resolves.toBeUndefined();
  });
});
