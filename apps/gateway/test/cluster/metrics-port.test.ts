import { afterEach, describe, expect, it } from 'vitest';
import { at, memoryCluster, stopAll, type RunningGateway } from '../support/cluster';

let nodes: RunningGateway[] = [];

afterEach(async () => {
  await stopAll(nodes);
});

describe('METRICS_PORT', () => {
  it('serves /metrics on its own port and no longer on the public chat port', async () => {
    nodes = await memoryCluster(1, { METRICS_PORT: '0' });
    const node = at(nodes, 0);
    const port = node.gateway.metricsPort();
    if (port === undefined) throw new Error('no metrics port');
    const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('chat_engine_sockets');
    expect((await fetch(`${node.url}/metrics`)).status).toBe(404);
    expect((await fetch(`${node.url}/readyz`)).status).toBe(200);
  });

  it('without it, /metrics stays on the chat port', async () => {
    nodes = await memoryCluster(1);
    expect(at(nodes, 0).gateway.metricsPort()).toBeUndefined();
    expect((await fetch(`${at(nodes, 0).url}/metrics`)).status).toBe(200);
  });
});
