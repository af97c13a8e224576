import { Router } from 'express';
import { errorMessage } from '../lib/errors';
import { withTimeout } from '../lib/clock';

export interface DependencyCheck {
  name: string;
  /** A critical dependency down = unhealthy (503); a non-critical one = degraded (200). */
  critical: boolean;
  check(): Promise<void>;
}

export interface CheckResult {
  name: string;
  status: 'ok' | 'down' | 'skipped';
  critical: boolean;
  latencyMs?: number;
  error?: string;
}

export async function runChecks(checks: readonly DependencyCheck[], timeoutMs: number) {
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

export function healthRouter(deps: {
  readiness: DependencyCheck;
  dependencies: readonly DependencyCheck[];
  timeoutMs: number;
  isShuttingDown: () => boolean;
}): Router {
  const router = Router();
  router.get('/health/live', (_req, res) => {
    res.json({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) });
  });
  router.get('/health/ready', async (_req, res) => {
    if (deps.isShuttingDown()) {
      res.status(503).json({ status: 'shutting_down' });
      return;
    }
    const { status, results } = await runChecks([deps.readiness], deps.timeoutMs);
    res.status(status === 'ok' ? 200 : 503).json({ status: status === 'ok' ? 'ready' : 'not_ready', checks: results });
  });
  router.get('/health', async (_req, res) => {
    const { status, results } = await runChecks([deps.readiness, ...deps.dependencies], deps.timeoutMs);
    res.status(status === 'unhealthy' ? 503 : 200).json({ status, checks: Object.fromEntries(results.map((r) => [r.name, r])) });
  });
  return router;
}
