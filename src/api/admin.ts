import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Router } from 'express';
import type { Queue } from 'bullmq';
import type { AuthThrottle } from '../lib/auth-throttle/auth-throttle';
import { readOnlyQueueBoard } from './admin-read-only';
import { basicAuth } from './basic-auth';
import { mountLabel } from './metrics-route';

export const ADMIN_QUEUES_PATH = '/admin/queues';

export interface AdminOptions {
  user?: string;
  password?: string;
  queues: readonly Queue[];
  /** Failed logins per client IP (Redis-backed). */
  throttle: AuthThrottle;
  /** Only reads and retrying failed jobs (ADMIN_QUEUES_READ_ONLY). */
  readOnly: boolean;
}

/** bull-board behind HTTP Basic auth; refuses everything when no credentials are configured. */
export function adminRouter(opts: AdminOptions): Router {
  const router = Router();
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(ADMIN_QUEUES_PATH);
  // bull-board's own readOnlyMode is not used: it refuses retrying failed jobs too (readOnlyQueueBoard).
  createBullBoard({ queues: opts.queues.map((q) => new BullMQAdapter(q)), serverAdapter });
  const guards = [basicAuth({ user: opts.user, password: opts.password, throttle: opts.throttle })];
  if (opts.readOnly) guards.push(readOnlyQueueBoard(opts.queues));
  router.use(ADMIN_QUEUES_PATH, mountLabel(ADMIN_QUEUES_PATH), ...guards, serverAdapter.getRouter());
  return router;
}
