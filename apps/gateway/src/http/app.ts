import express, { type Express, type RequestHandler } from 'express';
import type { Metrics } from '../metrics';
import type { Readiness } from '../cluster/readiness';
import type { Registry } from '../sessions/registry';
import { webClient } from './web';

export interface HttpDeps {
  nodeId: string;
  readiness: Readiness;
  registry: Registry;
  metrics: Metrics;
  /** Engine.IO sockets held (joined or not) and those not joined yet. */
  sockets: () => { open: number; waiting: number };
  busUp: () => boolean;
  startedAt: number;
  /** Serve /metrics here too; false when it has a port of its own (METRICS_PORT). */
  withMetrics: boolean;
  /** The built web client (WEB_DIR), served at `/`. */
  webDir: string;
  /** Whether handshakes need a token: the page asks for one (`/config.json`). */
  auth: boolean;
}

/**
 * The node's HTTP face besides Socket.IO: `/healthz` (200 while the process serves: for
 * restarts), `/readyz` (200 only while it can take part in the cluster: for balancers),
 * unless it is served apart, `/metrics` (Prometheus), and the web client at `/` (see web.ts).
 */
export function createHttpApp(deps: HttpDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    const sockets = deps.sockets();
    res.json({
      status: 'ok',
      node: deps.nodeId,
      uptimeMs: Date.now() - deps.startedAt,
      clients: deps.registry.size,
      engineSockets: sockets.open,
      waiting: sockets.waiting,
    });
  });
  app.get('/readyz', (_req, res) => {
    const report = deps.readiness.report();
    res.status(report.ready ? 200 : 503).json(report);
  });
  if (deps.withMetrics) app.get('/metrics', metricsHandler(deps));
  app.use(webClient(deps.webDir, { auth: deps.auth }));
  return app;
}

/** `/metrics` alone, for METRICS_PORT: kept away from the public chat port. */
export function createMetricsApp(deps: HttpDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/metrics', metricsHandler(deps));
  return app;
}

function metricsHandler(deps: HttpDeps): RequestHandler {
  return async (_req, res) => {
    const { metrics } = deps;
    metrics.busUp.set(deps.busUp() ? 1 : 0);
    metrics.ready.set(deps.readiness.report().ready ? 1 : 0);
    metrics.clients.set(deps.registry.size);
    metrics.engineSockets.set(deps.sockets().open);
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  };
}
