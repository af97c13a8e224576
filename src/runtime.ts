/**
 * Builds and starts every real part of one runtime instance from a Config (shared Redis parts,
 * the worker side, the ingress side) and owns their shutdown order. With main.ts the only place
 * that constructs real dependencies; tests boot it in-process on port 0 against a private Redis.
 */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir } from 'node:fs/promises';
import type { Redis } from 'ioredis';
import type { Capacity } from './lib/capacity';
import type { CallRecord, CallStore } from './lib/calls/call-store';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from './lib/config';
import { errorMessage } from './lib/errors';
import type { Logger } from './lib/logger';
import { createMetrics, type Metrics } from './lib/metrics';
import { closeRedis } from './lib/redis';
import type { TenantConfig } from './lib/tenants/tenant-config';
import { closeQueues, type Queues } from './jobs/queues';
import { AUDIO_CLEANUP_EVERY_MS, scheduleAudioCleanup } from './jobs/schedulers';
import { closeWorkers } from './jobs/workers';
import type { CallInputListener } from './media/ports';
import type { LiveCalls } from './media/live-calls';
import { buildIngress, type Ingress } from './composition/ingress';
import { buildShared } from './composition/shared';
import type { Budgets } from './jobs/call-control/command-deadlines';
import { startWorkerSide, type WorkerSide } from './composition/workers';

export interface RuntimeOptions {
  /** Override the audio-cleanup schedule (tests use a short one). */
  audioCleanupEveryMs?: number;
  /** Collect prom-client default process metrics (off in tests that build many runtimes). */
  defaultMetrics?: boolean;
  /** Sliding rate window of the calls-per-minute cap (tests shorten it). */
  rateWindowMs?: number;
  /** Call Control retry budgets per action (jobs/call-control/command-deadlines.ts; tests shorten them). */
  commandBudgets?: Budgets;
  /** Replaces the conversation as the receiver of caller input (media-layer tests). */
  listenerFor?: (call: CallRecord, tenant: TenantConfig | undefined) => CallInputListener;
}

export interface Runtime {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly redis: Redis;
  readonly queues: Queues;
  readonly capacity: Capacity;
  readonly calls: CallStore;
  readonly instanceId: string;
  /** The live phone calls of this instance (their media streams and conversations). */
  readonly liveCalls?: LiveCalls;
  readonly server?: http.Server;
  /** Base URL of the HTTP server (when this process runs the API role). */
  readonly url?: string;
  close(): Promise<void>;
}

export async function startRuntime(config: Config, logger: Logger, opts: RuntimeOptions = {}): Promise<Runtime> {
  const metrics = createMetrics({ defaultMetrics: opts.defaultMetrics });
  await mkdir(config.AUDIO_STORAGE_DIR, { recursive: true });
  for (const dir of [config.STT_DEBUG_DIR, config.AMRWB_DEBUG_DIR]) if (dir) await mkdir(dir, { recursive: true });
  const s = buildShared(config, logger, metrics, opts);
  let shuttingDown = false;

  let workerSide: WorkerSide | undefined;
  if (config.PROCESS_ROLE !== 'api') {
    workerSide = startWorkerSide(s, { commandBudgets: opts.commandBudgets });
    // In the background: the process must come up (and report not-ready) while Redis is down.
    void retryUntil(() => scheduleAudioCleanup(s.queues, opts.audioCleanupEveryMs ?? AUDIO_CLEANUP_EVERY_MS), () => shuttingDown, logger, 'schedule audio cleanup');
  }

  let ingress: Ingress | undefined;
  let url: string | undefined;
  if (config.PROCESS_ROLE !== 'worker') {
    ingress = await buildIngress(s, { isShuttingDown: () => shuttingDown, listenerFor: opts.listenerFor });
    const server = ingress.server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.PORT, () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    url = `http://127.0.0.1:${port}`;
    logger.info({ port, role: config.PROCESS_ROLE, playbackMode: config.PLAYBACK_MODE, instanceId: s.instanceId }, 'runtime listening');
  } else {
    logger.info({ role: config.PROCESS_ROLE, instanceId: s.instanceId }, 'runtime started (workers only)');
  }

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      shuttingDown = true;
      const t0 = Date.now();
      const step = (what: string) => logger.debug({ ms: Date.now() - t0 }, `shutdown: ${what}`);
      if (ingress) {
        await ingress.close();
        const server = ingress.server;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await closed;
        step('http server closed');
      }
      if (workerSide) {
        await closeWorkers(workerSide.workers, workerSide.connection.status === 'ready');
        workerSide.telnyx.close();
        step('workers closed');
      }
      // Leases of calls still up are left to expire (CAPACITY_TTL_SECONDS); we stop refreshing them.
      await s.leases.stop();
      await closeQueues(s.queues);
      step('queues closed');
      await Promise.all([closeRedis(s.redis), closeRedis(s.bullConnection), ...(workerSide ? [closeRedis(workerSide.connection)] : [])]);
      step('redis closed');
    })());

  return {
    config,
    logger,
    metrics,
    redis: s.redis,
    queues: s.queues,
    capacity: s.capacity,
    calls: s.calls,
    instanceId: s.instanceId,
    liveCalls: ingress?.liveCalls,
    server: ingress?.server,
    url,
    close,
  };
}

/** Retries a boot-time Redis operation with capped backoff until it succeeds or the runtime stops. */
async function retryUntil(op: () => Promise<unknown>, stopped: () => boolean, logger: Logger, what: string): Promise<void> {
  for (let attempt = 0; !stopped(); attempt += 1) {
    try {
      await op();
      return;
    } catch (err) {
      if (attempt === 0) logger.warn({ err: errorMessage(err) }, `${what} failed; retrying in the background`);
      await sleep(Math.min(250 * 2 ** attempt, 5000));
    }
  }
}
