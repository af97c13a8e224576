/**
 * A private stack for failover scenarios: its own redis-server, the fake Telnyx Call Control API,
 * a signing key, and the runtime as a child process (src/main.ts, production mode) wired to them.
 * Everything started is registered and stopped by `close()`, in reverse order, also on a crash of
 * the scenario; only the PIDs started here are ever signalled.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUE_NAMES, type QueueKey } from '../../src/jobs/queue-names';
import { Capacity } from '../../src/lib/capacity';
import { closeRedis, createRedis } from '../../src/lib/redis';
import { metricValue, scrape } from '../lib/metrics';
import { spawnRuntime, type LogLine, type RuntimeProcess } from '../lib/runtime-process';
import { startCallControlApi, type CallControlApi } from '../sim/call-control-api';
import { freePort, startRedisServer, type RedisServerHandle } from '../sim/redis-server';
import { generateTestKeyPair, makeEvent, signedWebhook, type TestKeyPair } from '../sim/signing';

export interface Stack {
  redisServer: RedisServerHandle;
  redis: Redis;
  api: CallControlApi;
  keys: TestKeyPair;
  runtime: RuntimeProcess;
  capacity: Capacity;
  metricsToken: string;
  logFile: string;
  /** Seeds a tenant on a number (the runtime's own key layout, default prefixes). */
  seedTenant(tenantId: string, did: string, caps: { concurrent: number; perMinute: number }): Promise<void>;
  /** Sends a signed webhook for the call; resolves with the HTTP status. */
  send(eventType: string, callId: string, payload?: Record<string, unknown>): Promise<number>;
  /** active_calls on the runtime's /metrics (capacity leases it keeps alive). */
  activeLeases(): Promise<number>;
  /** Jobs of a queue not finished yet (waiting + delayed + active). */
  pendingJobs(queue: QueueKey): Promise<number>;
  close(): Promise<void>;
}

/** Stacks not closed yet: the runner closes them when a scenario overruns or on SIGINT/SIGTERM. */
const open = new Set<() => Promise<void>>();

export async function closeAllStacks(): Promise<void> {
  await Promise.all([...open].map((c) => c()));
}

export async function startStack(opts: { runtimeEnv?: Record<string, string>; onLog?: (l: LogLine) => void } = {}): Promise<Stack> {
  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    open.delete(close);
    for (const c of closers.reverse()) await Promise.race([c().catch(() => undefined), new Promise((r) => setTimeout(r, 15_000))]);
    closers.length = 0;
  };
  open.add(close);
  // Should this process die anyway, its children go with it (their own PIDs only).
  const pids: number[] = [];
  const killChildren = () => {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  };
  process.on('exit', killChildren);
  closers.push(async () => process.off('exit', killChildren));
  try {
    const redisServer = await startRedisServer();
    pids.push(redisServer.pid);
    closers.push(() => redisServer.destroy());
    const api = await startCallControlApi({ apiKey: `KEY_${randomBytes(8).toString('hex')}`, maxRecorded: 100_000 });
    closers.push(() => api.close());
    const keys = generateTestKeyPair();
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'veralux-failover-'));
    closers.push(async () => rmSync(tmp, { recursive: true, force: true }));
    const port = await freePort();
    const metricsToken = randomBytes(16).toString('hex');
    const logFile = path.join(tmp, 'runtime.log');
    const runtime = spawnRuntime({
      env: {
        NODE_ENV: 'production',
        PORT: String(port),
        LOG_LEVEL: 'info',
        REDIS_URL: redisServer.url,
        TELNYX_API_KEY: api.apiKey,
        TELNYX_PUBLIC_KEY: keys.publicKeyB64,
        TELNYX_API_BASE_URL: api.baseUrl,
        MEDIA_STREAM_TOKEN: randomBytes(16).toString('hex'),
        METRICS_TOKEN: metricsToken,
        PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
        AUDIO_PUBLIC_BASE_URL: `http://127.0.0.1:${port}/audio`,
        AUDIO_STORAGE_DIR: path.join(tmp, 'audio'),
        // Never reached in these scenarios (no call gets as far as speech): a closed port.
        WHISPER_URL: 'http://127.0.0.1:9/v1/audio/transcriptions',
        KOKORO_URL: 'http://127.0.0.1:9/v1/audio/speech',
        STT_CHUNK_MS: '1000',
        STT_SILENCE_MS: '600',
        DEAD_AIR_MS: '15000',
        GLOBAL_CONCURRENCY_CAP: '500',
        TENANT_CONCURRENCY_CAP_DEFAULT: '100',
        TENANT_CALLS_PER_MIN_CAP_DEFAULT: '600',
        CAPACITY_TTL_SECONDS: '60',
        ...opts.runtimeEnv,
      },
      logFile,
      onLog: opts.onLog,
    });
    pids.push(runtime.pid);
    closers.push(() => runtime.stop());
    await runtime.waitReady(60_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${runtime.tail(15).join('\n')}`);
    });
    const redis = createRedis(redisServer.url, 'request');
    closers.push(() => closeRedis(redis));
    const queues = new Map<QueueKey, Queue>();
    closers.push(() => Promise.all([...queues.values()].map((q) => q.close())));
    return {
      redisServer,
      redis,
      api,
      keys,
      runtime,
      capacity: new Capacity({ redis, prefix: 'cap' }),
      metricsToken,
      logFile,
      async seedTenant(tenantId, did, caps) {
        const doc = { contractVersion: 'v1', tenantId, dids: [did], caps: { maxConcurrentCallsTenant: caps.concurrent, maxCallsPerMinuteTenant: caps.perMinute }, stt: { mode: 'whisper_http', chunkMs: 1000 }, tts: { mode: 'kokoro_http' } };
        await redis.set(`tenantmap:did:${did}`, tenantId);
        await redis.set(`tenantcfg:${tenantId}`, JSON.stringify(doc));
      },
      async send(eventType, callId, payload = {}) {
        const { rawBody, headers } = signedWebhook(makeEvent(eventType, { call_control_id: callId, ...payload }), { privateKey: keys.privateKey });
        const res = await fetch(`${runtime.url}/v1/telnyx/webhook`, { method: 'POST', body: rawBody, headers, signal: AbortSignal.timeout(10_000) });
        await res.arrayBuffer();
        return res.status;
      },
      async activeLeases() {
        return metricValue(await scrape(runtime.url, metricsToken), 'active_calls');
      },
      async pendingJobs(key) {
        let q = queues.get(key);
        if (!q) {
          q = new Queue(QUEUE_NAMES[key], { connection: redis, prefix: 'bull' });
          queues.set(key, q);
        }
        const c = await q.getJobCounts('waiting', 'delayed', 'active');
        return (c.waiting ?? 0) + (c.delayed ?? 0) + (c.active ?? 0);
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Polls `fn` every `stepMs` until it is true; false when `timeoutMs` passed first. */
export async function until(fn: () => Promise<boolean> | boolean, timeoutMs: number, stepMs = 50): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await fn()) return true;
    if (performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
