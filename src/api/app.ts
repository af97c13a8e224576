import { randomUUID } from 'node:crypto';
import express, { type Express, type Router } from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from '../lib/logger';
import { redactUrl } from '../lib/logger';
import type { Metrics } from '../lib/metrics';
import { errorHandler, notFoundHandler } from './error-handler';
import { httpMetrics, metricsHandler } from './metrics-route';

export interface AppDeps {
  logger: Logger;
  metrics: Metrics;
  metricsToken?: string;
  /**
   * Reverse proxies in front whose X-Forwarded-For is believed for req.ip (TRUST_PROXY_HOPS). 0 =
   * the socket peer: a forwarded header anyone can send must not pick the admin-throttle key.
   */
  trustProxyHops?: number;
  /** Routers mounted in order (health, admin, webhooks, audio, ...). Built by the composition root. */
  routers: readonly Router[];
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** Builds the Express app; never listens (the composition root owns the server). */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustProxyHops ?? 0);
  app.use(
    pinoHttp({
      logger: deps.logger,
      genReqId: (req, res) => {
        const incoming = req.headers['x-request-id'];
        const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
      serializers: {
        req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: redactUrl(req.url) }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      // Health probes and scrapes every few seconds would drown the log.
      autoLogging: { ignore: (req) => req.url?.startsWith('/health') === true || req.url === '/metrics' },
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'info' : 'debug'),
    }),
  );
  app.use(httpMetrics(deps.metrics));
  app.get('/metrics', metricsHandler(deps.metrics, deps.metricsToken));
  for (const router of deps.routers) app.use(router);
  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
