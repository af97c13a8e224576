import { Router, type Request } from 'express';
import { errorMessage } from '../lib/errors';
import { withTimeout } from '../lib/with-timeout';
import { hasBearer } from './bearer';
import { CachedRun } from './cached-checks';

export interface DependencyCheck {
  name: string;
  /** A critical dependency down = unhealthy (503); a non-critical one = degraded (200). */
  critical: boolean;
  check(): Promise<void>;
  /** Releases what the check keeps between runs (kept-alive connections). */
  close?(): void;
}

export interface CheckResult {
  name: string;
  status: 'ok' | 'down' | 'skipped';
  critical: boolean;
  latencyMs?: number;
  error?: string;
}

export type HealthStatus = 'ok' | 'degraded' | 'unhealthy';

export interface HealthReport {
  status: HealthStatus;
  results: CheckResult[];
}

/**
 * How long a check result is reused: probes every few seconds still see fresh state, and a burst
 * of requests costs one PING / one HEAD per dependency per second.
 */
export const HEALTH_CACHE_MS = 1000;

export async function runChecks(checks: readonly DependencyCheck[], timeoutMs: number): Promise<HealthReport> {
  const results: CheckResult[] = await Promise.all(
    checks.map(async (c) => {
      const t0 = performance.now();
      try {
        await withTimeout(c.check(), timeoutMs, `${c.name} check`);
        return { name: c.name, status: 'ok' as const, critical: c.critical, latencyMs: Math.round(performance.now() - t0) };
      } catch (err) {
        return { name: c.name, status: 'down' as const, critical: c.critical, latencyMs: Math.round(performance.now() - t0), error: errorMessage(err) };
      }
    }),
  );
  const criticalDown = results.some((r) => r.critical && r.status === 'down');
  const anyDown = results.some((r) => r.status === 'down');
  const status = criticalDown ? 'unhealthy' : anyDown ? 'degraded' : 'ok';
  return { status, results };
}

export interface HealthDeps {
  readiness: DependencyCheck;
  dependencies: readonly DependencyCheck[];
  timeoutMs: number;
  isShuttingDown: () => boolean;
  /** METRICS_TOKEN: `Authorization: Bearer <it>` gets latencies and error texts; without it, none. */
  detailToken?: string;
  cacheMs?: number;
  /** Monotonic ms (tests freeze it). */
  now?: () => number;
}

/**
 * Anonymous callers learn only `ok`/`down` per dependency: error texts name internal hosts and
 * ports. Results come from a shared, briefly cached run (CachedRun), never one check per request.
 */
export function healthRouter(deps: HealthDeps): Router {
  const router = Router();
  const cacheMs = deps.cacheMs ?? HEALTH_CACHE_MS;
  const ready = new CachedRun(() => runChecks([deps.readiness], deps.timeoutMs), cacheMs, deps.now);
  const all = new CachedRun(() => runChecks([deps.readiness, ...deps.dependencies], deps.timeoutMs), cacheMs, deps.now);
  const checksBody = (req: Request, results: readonly CheckResult[]) =>
    hasBearer(req.headers, deps.detailToken)
      ? Object.fromEntries(results.map((r) => [r.name, r]))
      : Object.fromEntries(results.map((r) => [r.name, r.status]));

  router.get('/health/live', (_req, res) => {
    res.json({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) });
  });
  router.get('/health/ready', async (req, res) => {
    if (deps.isShuttingDown()) {
      res.status(503).json({ status: 'shutting_down' });
      return;
    }
    const { status, results } = await ready.get();
    res.status(status === 'ok' ? 200 : 503).json({ status: status === 'ok' ? 'ready' : 'not_ready', checks: checksBody(req, results) });
  });
  router.get('/health', async (req, res) => {
    const { status, results } = await all.get();
    res.status(status === 'unhealthy' ? 503 : 200).json({ status, checks: checksBody(req, results) });
  });
  return router;
}
