import express, { type Express } from 'express';
import type { Metrics } from '../metrics';
import type { Readiness } from '../cluster/readiness';
import type { Registry } from '../sessions/registry';

export interface HttpDeps {
  nodeId: string;
  readiness: Readiness;
  registry: Registry;
  metrics: Metrics;
  busUp: () => boolean;
  startedAt: number;
}

/**
 * The node's HTTP face besides Socket.IO: `/healthz` (200 while the process serves: for
 * restarts), `/readyz` (200 only while it can take part in the cluster: for balancers) and
 * `/metrics` (Prometheus).
 */
export function createHttpApp(deps: HttpDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({
      status: 'ok',
      node: deps.nodeId,
      uptimeMs: Date.now() - deps.startedAt,
      clients: deps.registry.size,
    });
  });
  app.get('/readyz', (_req, res) => {
    const report = deps.readiness.report();
    res.status(report.ready ? 200 : 503).json(report);
  });
  app.get('/metrics', async (_req, res) => {
    const { metrics } = deps;
    metrics.busUp.set(deps.busUp() ? 1 : 0);
    metrics.ready.set(deps.readiness.report().ready ? 1 : 0);
    metrics.clients.set(deps.registry.size);
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  return app;
}
