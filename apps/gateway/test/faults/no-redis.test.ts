import { afterEach, describe, expect, it } from 'vitest';
import { eventually, refused } from '../support/client';
import { freePort, spawnGateway, stopProcesses, type GatewayProcess } from '@chat/test-support';

let processes: GatewayProcess[] = [];

afterEach(async () => {
  await stopProcesses(processes);
  processes = [];
});

interface LogLine {
  msg: string;
  redis?: string;
  since?: string;
}

describe('a gateway whose Redis is unreachable', () => {
  it('says so in its log, in /readyz and to clients, naming where Redis is and since when', async () => {
    const port = await freePort(); // nothing listens there
    const gateway = await spawnGateway(
      { REDIS_URL: `redis://:hunter2-secret@127.0.0.1:${port}` },
      { until: 'serving' },
    );
    processes.push(gateway);

    await eventually(() => {
      const lines = gateway.logs.map((l) => JSON.parse(l) as LogLine);
      expect(lines).toContainEqual(
        expect.objectContaining({
          msg: 'redis unreachable',
          redis: `127.0.0.1:${port}`,
          since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        }),
      );
    });
    expect(gateway.logs.join('\n')).not.toContain('hunter2');

    const res = await fetch(`${gateway.url}/readyz`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { reason: string }).reason).toMatch(
      new RegExp(`^redis unreachable since \\d{4}-.+ \\(127\\.0\\.0\\.1:${port}: .+\\)$`),
    );

    expect(await refused(gateway.url, { name: 'alice' })).toEqual({
      code: 'UNAVAILABLE',
      message: expect.stringMatching(/message broker \(Redis\)/),
      retryable: true,
    });
  });
});
