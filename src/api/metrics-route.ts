import type { Request, RequestHandler, Response } from 'express';
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

/** Methods labelled by name; anything else (PROPFIND, made-up verbs) is "other". */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const MOUNT_KEY = 'metricsMount';

/**
 * Marks requests under a router mounted at a fixed path (`router.use(path, mountLabel(path), …)`), so the
 * route label carries the app's own spelling of the mount, never the request's (`/aDmIn/qUeUeS` matches
 * case-insensitively, but must not create a series of its own).
 */
export function mountLabel(path: string): RequestHandler {
  return (_req, res, next) => {
    res.locals[MOUNT_KEY] = path;
    next();
  };
}

/**
 * The `route` label: the app's route pattern (`/v1/telnyx/media/:id`, bull-board's `/api/queues/:queueName`),
 * prefixed by a mount marked with mountLabel; "other" for unmatched requests and unmarked mounts. Only
 * strings written in the code can appear, so cardinality is bounded by the app, not by its clients.
 */
export function routeLabel(req: Request, res: Response): string {
  const pattern: unknown = req.route?.path;
  if (typeof pattern !== 'string' && !Array.isArray(pattern)) return 'other';
  const mount: unknown = res.locals[MOUNT_KEY];
  if (req.baseUrl !== '' && typeof mount !== 'string') return 'other';
  return `${typeof mount === 'string' ? mount : ''}${String(pattern)}`;
}

/** Records every request in the HTTP latency histogram, labelled by route pattern (bounded cardinality). */
export function httpMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const end = metrics.httpRequestDuration.startTimer();
    res.on('finish', () => {
      end({ method: KNOWN_METHODS.has(req.method) ? req.method : 'other', route: routeLabel(req, res), status: String(res.statusCode) });
    });
    next();
  };
}
