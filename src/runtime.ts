/**
 * Builds and starts every real part of one runtime instance from a Config: Redis connections,
 * queues, workers, schedulers and the HTTP server. The only place (with main.ts) that constructs
 * real dependencies; tests boot it in-process on port 0 against a private Redis.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir } from 'node:fs/promises';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { adminRouter } from './api/admin';
import { createApp } from './api/app';
import { httpReachableCheck, redisCheck } from './api/dependency-checks';
import { healthRouter } from './api/health';
import type { Config } from './lib/config';
import type { Logger } from './lib/logger';
import { createMetrics, type Metrics } from './lib/metrics';
import { closeRedis, createRedis } from './lib/redis';
import { cleanupAudioDir } from './jobs/maintenance/audio-cleanup';
import { closeQueues, createQueues, type Queues } from './jobs/queues';
import { AUDIO_CLEANUP_EVERY_MS, AUDIO_CLEANUP_JOB, scheduleAudioCleanup } from './jobs/schedulers';
import { closeWorkers, startWorkers } from './jobs/workers';
import { sleep } from './lib/clock';
import { errorMessage } from './lib/errors';

export interface RuntimeOptions {
  /** Override the audio-cleanup schedule (tests use a short one). */
  audioCleanupEveryMs?: number;
  /** Collect prom-client default process metrics (off in tests that build many runtimes). */
  defaultMetrics?: boolean;
}

export interface Runtime {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly redis: Redis;
  readonly queues: Queues;
  readonly server?: http.Server;
  /** Base URL of the HTTP server (when this process runs the API role). */
  readonly url?: string;
  close(): Promise<void>;
}

export async function startRuntime(config: Config, logger: Logger, opts: RuntimeOptions = {}): Promise<Runtime> {
  const runApi = config.PROCESS_ROLE !== 'worker';
  const runWorkers = config.PROCESS_ROLE !== 'api';
  const metrics = createMetrics({ defaultMetrics: opts.defaultMetrics });

  await mkdir(config.AUDIO_STORAGE_DIR, { recursive: true });
  for (const dir of [config.STT_DEBUG_DIR, config.AMRWB_DEBUG_DIR]) if (dir) await mkdir(dir, { recursive: true });

  const redis = createRedis(config.REDIS_URL, 'request', logger, 'request');
  const bullConnection = createRedis(config.REDIS_URL, 'bullmq', logger, 'bullmq');
  const queues = createQueues(bullConnection, config.QUEUE_PREFIX);
  metrics.watchQueues(Object.values(queues));

  let shuttingDown = false;
  let workers: Worker[] = [];
  let workerConnection: Redis | undefined;
  if (runWorkers) {
    workerConnection = createRedis(config.REDIS_URL, 'bullmq', logger, 'bullmq-worker');
    const maxAgeMs = config.AUDIO_CLEANUP_HOURS * 3_600_000;
    workers = startWorkers(
      workerConnection,
      config.QUEUE_PREFIX,
      {
        maintenance: {
          concurrency: 2,
          processor: async (job) => {
            if (job.name !== AUDIO_CLEANUP_JOB) throw new Error(`unknown maintenance job ${job.name}`);
            const result = await cleanupAudioDir(config.AUDIO_STORAGE_DIR, maxAgeMs);
            logger.info({ ...result, dir: config.AUDIO_STORAGE_DIR }, 'audio cleanup done');
            return result;
          },
        },
      },
      logger,
    );
    // In the background: the process must come up (and report not-ready) while Redis is down.
    void retryUntil(() => scheduleAudioCleanup(queues, opts.audioCleanupEveryMs ?? AUDIO_CLEANUP_EVERY_MS), () => shuttingDown, logger, 'schedule audio cleanup');
  }

  let server: http.Server | undefined;
  let url: string | undefined;
  if (runApi) {
    const t = config.HEALTH_CHECK_TIMEOUT_MS;
    const app = createApp({
      logger,
      metrics,
      metricsToken: config.METRICS_TOKEN,
      routers: [
        healthRouter({
          readiness: redisCheck(redis),
          dependencies: [
            httpReachableCheck('whisper', config.WHISPER_URL, t),
            httpReachableCheck('kokoro', config.KOKORO_URL, t),
            ...(config.BRAIN_URL ? [httpReachableCheck('brain', config.BRAIN_URL, t)] : []),
          ],
          timeoutMs: t,
          isShuttingDown: () => shuttingDown,
        }),
        adminRouter({ user: config.ADMIN_USER, password: config.ADMIN_PASSWORD, queues: Object.values(queues) }),
      ],
    });
    server = http.createServer(app);
    // Slowloris bounds: headers within 10 s, whole request within 30 s.
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(config.PORT, () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    url = `http://127.0.0.1:${port}`;
    logger.info({ port, role: config.PROCESS_ROLE, playbackMode: config.PLAYBACK_MODE }, 'runtime listening');
  } else {
    logger.info({ role: config.PROCESS_ROLE }, 'runtime started (workers only)');
  }

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      shuttingDown = true;
      const t0 = Date.now();
      const step = (what: string) => logger.debug({ ms: Date.now() - t0 }, `shutdown: ${what}`);
      if (server) {
        const s = server;
        const closed = new Promise<void>((resolve) => s.close(() => resolve()));
        s.closeIdleConnections();
        await closed;
        step('http server closed');
      }
      await closeWorkers(workers, workerConnection?.status === 'ready');
      step('workers closed');
      await closeQueues(queues);
      step('queues closed');
      await Promise.all([
        closeRedis(redis),
        closeRedis(bullConnection),
        ...(workerConnection ? [closeRedis(workerConnection)] : []),
      ]);
      step('redis closed');
    })());

  return { config, logger, metrics, redis, queues, server, url, close };
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
