import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Router } from 'express';
import type { Queue } from 'bullmq';
import { basicAuth } from './basic-auth';
import { mountLabel } from './metrics-route';

export const ADMIN_QUEUES_PATH = '/admin/queues';

/** bull-board behind HTTP Basic auth; refuses everything when no credentials are configured. */
export function adminRouter(opts: { user?: string; password?: string; queues: readonly Queue[] }): Router {
  const router = Router();
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(ADMIN_QUEUES_PATH);
  createBullBoard({ queues: opts.queues.map((q) => new BullMQAdapter(q)), serverAdapter });
  router.use(ADMIN_QUEUES_PATH, mountLabel(ADMIN_QUEUES_PATH), basicAuth(opts), serverAdapter.getRouter());
  return router;
}
