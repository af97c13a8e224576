import type { RequestHandler } from 'express';
import type { Queue } from 'bullmq';

/**
 * bull-board's API, mounted below this guard: `PUT /api/queues/:queue/retry/:status` (retry all)
 * and `PUT /api/queues/:queue/:jobId/retry` (@bull-board/api 9.10.1 routes.js). Matched the way
 * Express routes them (case-insensitive, optional trailing slash).
 */
const RETRY_ALL = /^\/api\/queues\/[^/]+\/retry\/failed\/?$/i;
const RETRY_ONE = /^\/api\/queues\/([^/]+)\/([^/]+)\/retry\/?$/i;

const decode = (s: string): string | undefined => {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
};

/**
 * Read-only queue board (ADMIN_QUEUES_READ_ONLY): every read goes through, and of the writes only
 * retrying FAILED jobs — adding, editing, promoting, cleaning, emptying, pausing or retrying a
 * completed job (it would run a call command a second time) get 403. bull-board's own readOnlyMode
 * cannot do this: it refuses retries too.
 */
export function readOnlyQueueBoard(queues: readonly Queue[]): RequestHandler {
  const byName = new Map(queues.map((q) => [q.name, q]));
  const refuse = (res: Parameters<RequestHandler>[1], message: string) =>
    res.status(403).json({ error: 'read_only', message });
  return async (req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    if (req.method === 'PUT' && RETRY_ALL.test(req.path)) return next();
    const one = req.method === 'PUT' ? RETRY_ONE.exec(req.path) : null;
    if (one) {
      const queue = byName.get(decode(one[1]!) ?? '');
      const jobId = decode(one[2]!);
      // Unknown queue or job: bull-board answers those with its own 404.
      if (!queue || jobId === undefined) return next();
      const state = await queue.getJobState(jobId);
      if (state === 'failed' || state === 'unknown') return next();
      return refuse(res, `only failed jobs can be retried on the read-only queue board (this one is ${state})`);
    }
    refuse(res, 'the queue board is read-only (ADMIN_QUEUES_READ_ONLY=true): only retrying failed jobs is allowed');
  };
}
