import type { RequestHandler } from 'express';
import type { Metrics } from '../lib/metrics';
import { hasBearer } from './bearer';

/** Prometheus scrape endpoint; with METRICS_TOKEN set (required in production) it requires `Authorization: Bearer <token>`. */
export function metricsHandler(metrics: Metrics, token?: string): RequestHandler {
  return async (req, res, next) => {
    if (token && !hasBearer(req.headers, token)) {
      res.status(401).json({ error: 'unauthorized', message: 'metrics require a bearer token' });
      return;
    }
    try {
      const body = await metrics.registry.metrics();
      res.set('Content-Type', metrics.registry.contentType).send(body);
    } catch (err) {
      next(err);
    }
  };
}

/** Records every request in the HTTP latency histogram, labelled by route pattern (bounded cardinality). */
export function httpMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const end = metrics.httpRequestDuration.startTimer();
    res.on('finish', () => {
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : req.baseUrl || 'unmatched';
      end({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  };
}
