/**
 * Builds and starts every real part of one runtime instance from a Config: Redis connections,
 * queues, workers, schedulers and the HTTP server. The only place (with main.ts) that constructs
 * real dependencies; tests boot it in-process on port 0 against a private Redis.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { adminRouter } from './api/admin';
import { createApp } from './api/app';
import { audioFilesRouter } from './api/audio-files';
import { httpReachableCheck, redisCheck } from './api/dependency-checks';
import { healthRouter } from './api/health';
import { telnyxWebhookRouter } from './api/telnyx-webhook';
import { Capacity, LeaseKeeper } from './lib/capacity';
import { CallStore } from './lib/calls/call-store';
import { sleep } from './lib/clock';
import type { Config } from './lib/config';
import { errorMessage } from './lib/errors';
import type { Logger } from './lib/logger';
import { createMetrics, type Metrics } from './lib/metrics';
import { CallOrder } from './lib/ordering/call-order';
import { closeRedis, createRedis } from './lib/redis';
import { stateKeys } from './lib/state-keys';
import { createCallControlClient, type CallControlClient } from './lib/telnyx/call-control-client';
import { createWebhookVerifier } from './lib/telnyx/webhook-verify';
import { TenantResolver } from './lib/tenants/tenant-resolver';
import { createKokoroClient } from './lib/tts/kokoro-client';
import { CallFlow } from './jobs/calls/call-flow';
import { PromptSpeaker } from './jobs/calls/prompt-speaker';
import { CommandProducer } from './jobs/call-control/command-producer';
import { createCommandProcessor } from './jobs/call-control/command-processor';
import { EventIngest } from './jobs/events/event-ingest';
import { createEventProcessor } from './jobs/events/event-processor';
import { closeQueues, createQueues, type Queues } from './jobs/queues';
import { AUDIO_CLEANUP_EVERY_MS, scheduleAudioCleanup } from './jobs/schedulers';
import { createPromptProcessor } from './jobs/tts/prompt-processor';
import { synthesizeToFile } from './jobs/tts/synthesize';
import { buildWorkerSpecs } from './jobs/worker-specs';
import { StreamRestarter } from './jobs/call-control/stream-restarter';
import { attachMediaServer } from './api/media-ws';
import { isAmrWbAvailable } from './media/audio/codecs';
import { createVadFactory } from './media/audio/vad-factory';
import { SessionRegistry } from './media/session/session-registry';
import { createSessionFactory } from './media/session/session-factory';
import { loggingListener } from './media/session/logging-listener';
import type { CallInputListener } from './media/session/call-input';
import type { CallRecord } from './lib/calls/call-store';
import type { TenantConfig } from './lib/tenants/tenant-config';
import { createWhisperClient } from './lib/stt/whisper-client';
import { createSttDebugDumper } from './lib/stt/debug-dump';
import { closeWorkers, startWorkers } from './jobs/workers';

export interface RuntimeOptions {
  /** Override the audio-cleanup schedule (tests use a short one). */
  audioCleanupEveryMs?: number;
  /** Collect prom-client default process metrics (off in tests that build many runtimes). */
  defaultMetrics?: boolean;
  /** Sliding rate window of the calls-per-minute cap (tests shorten it). */
  rateWindowMs?: number;
  /** Who hears a call's caller input (transcripts, DTMF); default: the log. */
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
  readonly sessions: SessionRegistry;
  readonly server?: http.Server;
  /** Base URL of the HTTP server (when this process runs the API role). */
  readonly url?: string;
  close(): Promise<void>;
}

/** Webhook event ids are remembered a day: Telnyx redelivers failed webhooks for hours. */
const EVENT_DEDUPE_TTL_SEC = 24 * 3600;
/** Cached TTS files are reused for 30 min; always well under AUDIO_CLEANUP_HOURS (>= 1 h). */
const TTS_CACHE_TTL_SEC = 1800;

export async function startRuntime(config: Config, logger: Logger, opts: RuntimeOptions = {}): Promise<Runtime> {
  const runApi = config.PROCESS_ROLE !== 'worker';
  const runWorkers = config.PROCESS_ROLE !== 'api';
  const instanceId = randomUUID();
  const metrics = createMetrics({ defaultMetrics: opts.defaultMetrics });

  await mkdir(config.AUDIO_STORAGE_DIR, { recursive: true });
  for (const dir of [config.STT_DEBUG_DIR, config.AMRWB_DEBUG_DIR]) if (dir) await mkdir(dir, { recursive: true });

  const redis = createRedis(config.REDIS_URL, 'request', logger, 'request');
  const bullConnection = createRedis(config.REDIS_URL, 'bullmq', logger, 'bullmq');
  const queues = createQueues(bullConnection, config.QUEUE_PREFIX);
  metrics.watchQueues(Object.values(queues));

  const keys = stateKeys(config.STATE_PREFIX);
  // Per-call records and counters outlive the longest call by an hour, for late webhooks.
  const callTtlSec = Math.ceil(config.MAX_CALL_DURATION_MS / 1000) + 3600;
  const order = new CallOrder(redis, keys, { dedupeTtlSec: EVENT_DEDUPE_TTL_SEC, counterTtlSec: callTtlSec });
  const calls = new CallStore(redis, keys, callTtlSec);
  const capacity = new Capacity({ redis, prefix: config.CAP_PREFIX, rateWindowMs: opts.rateWindowMs });
  const leaseMs = config.CAPACITY_TTL_SECONDS * 1000;
  const leases = new LeaseKeeper({ capacity, leaseMs, logger });
  const tenants = new TenantResolver(redis, config.TENANTMAP_PREFIX, config.TENANT_CACHE_TTL_MS);
  const commands = new CommandProducer(queues.callControl, order);
  const streamSettings = {
    publicBaseUrl: config.PUBLIC_BASE_URL,
    mediaStreamToken: config.MEDIA_STREAM_TOKEN,
    codec: config.TELNYX_STREAM_CODEC,
    playbackMode: config.PLAYBACK_MODE,
  };
  const sessions = new SessionRegistry(metrics, logger);

  let shuttingDown = false;
  let workers: Worker[] = [];
  let workerConnection: Redis | undefined;
  let telnyx: CallControlClient | undefined;
  if (runWorkers) {
    workerConnection = createRedis(config.REDIS_URL, 'bullmq', logger, 'bullmq-worker');
    telnyx = createCallControlClient({ baseUrl: config.TELNYX_API_BASE_URL, apiKey: config.TELNYX_API_KEY, timeoutMs: config.TELNYX_API_TIMEOUT_MS, logger });
    const kokoro = createKokoroClient({ timeoutMs: 15_000 });
    const callFlow = new CallFlow({
      calls,
      tenants,
      capacity,
      leases,
      commands,
      prompts: new PromptSpeaker(queues.tts, { kokoroUrl: config.KOKORO_URL, voice: config.KOKORO_VOICE, sampleRate: config.TTS_SAMPLE_RATE }),
      maintenance: queues.maintenance,
      redis,
      stream: streamSettings,
      limits: {
        globalMax: config.GLOBAL_CONCURRENCY_CAP,
        tenantMax: config.TENANT_CONCURRENCY_CAP_DEFAULT,
        tenantPerMinute: config.TENANT_CALLS_PER_MIN_CAP_DEFAULT,
        tenantmapPrefix: config.TENANTMAP_PREFIX,
        leaseMs,
      },
      maxCallDurationMs: config.MAX_CALL_DURATION_MS,
      instanceId,
      metrics,
      logger,
    });
    const synthDeps = { kokoro, storageDir: config.AUDIO_STORAGE_DIR, redis, cachePrefix: `${config.STATE_PREFIX}:tts`, cacheTtlSec: TTS_CACHE_TTL_SEC, logger };
    workers = startWorkers(
      workerConnection,
      config.QUEUE_PREFIX,
      buildWorkerSpecs({
        logger,
        audioDir: config.AUDIO_STORAGE_DIR,
        audioMaxAgeMs: config.AUDIO_CLEANUP_HOURS * 3_600_000,
        callFlow,
        eventProcessor: createEventProcessor({ order, handler: callFlow, metrics, logger }),
        commandProcessor: createCommandProcessor({ client: telnyx, order, calls, metrics, logger }),
        promptProcessor: createPromptProcessor({
          synthesize: (req) => synthesizeToFile(synthDeps, req),
          commands,
          audioPublicBaseUrl: config.AUDIO_PUBLIC_BASE_URL,
          metrics,
          logger,
        }),
      }),
      logger,
    );
    // In the background: the process must come up (and report not-ready) while Redis is down.
    void retryUntil(() => scheduleAudioCleanup(queues, opts.audioCleanupEveryMs ?? AUDIO_CLEANUP_EVERY_MS), () => shuttingDown, logger, 'schedule audio cleanup');
  }

  let server: http.Server | undefined;
  let url: string | undefined;
  let media: { close(): void } | undefined;
  let closeStt: (() => void) | undefined;
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
        telnyxWebhookRouter({
          verifier: createWebhookVerifier({ publicKeyB64: config.TELNYX_PUBLIC_KEY, hmacSecret: config.TELNYX_WEBHOOK_SECRET }),
          ingest: new EventIngest(queues.events, order),
          metrics,
        }),
        audioFilesRouter({ storageDir: config.AUDIO_STORAGE_DIR, publicBaseUrl: config.AUDIO_PUBLIC_BASE_URL }),
        adminRouter({ user: config.ADMIN_USER, password: config.ADMIN_PASSWORD, queues: Object.values(queues) }),
      ],
    });
    server = http.createServer(app);
    // Slowloris bounds: headers within 10 s, whole request within 30 s.
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    server.keepAliveTimeout = 5_000;
    const vadFactory = await createVadFactory({ mode: config.VAD_MODE });
    if (vadFactory.fellBack) logger.warn({ reason: vadFactory.fallbackReason }, 'Silero VAD unavailable: using the energy VAD');
    if (!isAmrWbAvailable()) logger.warn('libopencore-amrwb not found: AMR-WB streams fall back to PCMU (apt-get install libopencore-amrwb0)');
    const whisper = createWhisperClient({ timeoutMs: config.STT_TIMEOUT_MS, maxConcurrent: config.STT_MAX_CONCURRENT, logger });
    closeStt = () => whisper.close();
    const restarter = new StreamRestarter(commands, streamSettings);
    media = attachMediaServer(server, {
      mediaStreamToken: config.MEDIA_STREAM_TOKEN,
      calls,
      registry: sessions,
      createSession: createSessionFactory({
        config,
        vadFactory,
        stt: whisper,
        dumper: createSttDebugDumper({
          dir: config.STT_DEBUG_DIR,
          dumpWavs: config.STT_DEBUG_DUMP_WHISPER_WAVS,
          dumpPcm: config.STT_DEBUG_DUMP_PCM16,
          logger,
        }),
        streamControl: { restart: (callId, codec) => restarter.restart(callId, codec) },
        tenantConfig: async (call) => {
          const r = call.did ? await tenants.resolve(call.did) : undefined;
          return r?.kind === 'ok' ? r.config : undefined;
        },
        listenerFor: opts.listenerFor ?? ((call) => loggingListener(logger, call.callControlId)),
        metrics,
        logger,
      }),
      metrics,
      logger,
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(config.PORT, () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    url = `http://127.0.0.1:${port}`;
    logger.info({ port, role: config.PROCESS_ROLE, playbackMode: config.PLAYBACK_MODE, instanceId }, 'runtime listening');
  } else {
    logger.info({ role: config.PROCESS_ROLE, instanceId }, 'runtime started (workers only)');
  }

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      shuttingDown = true;
      const t0 = Date.now();
      const step = (what: string) => logger.debug({ ms: Date.now() - t0 }, `shutdown: ${what}`);
      media?.close();
      sessions.closeAll(1001, 'server shutting down');
      closeStt?.();
      if (server) {
        const s = server;
        const closed = new Promise<void>((resolve) => s.close(() => resolve()));
        s.closeIdleConnections();
        await closed;
        step('http server closed');
      }
      await closeWorkers(workers, workerConnection?.status === 'ready');
      step('workers closed');
      // Leases of calls still up are left to expire (CAPACITY_TTL_SECONDS) unless another
      // instance refreshes them; we stop refreshing them here.
      await leases.stop();
      telnyx?.close();
      await closeQueues(queues);
      step('queues closed');
      await Promise.all([
        closeRedis(redis),
        closeRedis(bullConnection),
        ...(workerConnection ? [closeRedis(workerConnection)] : []),
      ]);
      step('redis closed');
    })());

  return { config, logger, metrics, redis, queues, capacity, calls, instanceId, sessions, server, url, close };
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
