/**
 * Boots runtimes against a private Redis, the fake Telnyx API and the fake Kokoro, and sends
 * properly signed webhooks. Shared by the call-lifecycle integration tests and bench:setup.
 */
import { rmSync } from 'node:fs';
import axios from 'axios';
import type { Redis } from 'ioredis';
import { createRedis, closeRedis } from '../../src/lib/redis';
import { startRuntime, type Runtime, type RuntimeOptions } from '../../src/runtime';
import { startFakeKokoro, type FakeKokoro } from '../fakes/fake-kokoro';
import { startFakeTelnyxApi, type FakeTelnyxApi } from '../fakes/fake-telnyx-api';
import { generateTestKeyPair, makeEvent, newCallControlId, signedWebhook, type TestKeyPair } from './telnyx-signing';
import { memoryLogger, testEnv } from './test-config';
import { loadConfig } from '../../src/lib/config';
import type { Logger } from '../../src/lib/logger';

export const http = axios.create({ validateStatus: () => true, timeout: 10_000 });

export interface Harness {
  telnyx: FakeTelnyxApi;
  kokoro: FakeKokoro;
  keys: TestKeyPair;
  env: Record<string, string | undefined>;
  redis: Redis;
  runtimes: Runtime[];
  start(overrides?: Record<string, string | undefined>, opts?: RuntimeOptions): Promise<Runtime>;
  seedTenant(tenantId: string, did: string, config?: Record<string, unknown>): Promise<void>;
  send(rt: Runtime, eventType: string, callId: string, payload?: Record<string, unknown>, opts?: { id?: string }): Promise<{ status: number; data: Record<string, unknown> }>;
  close(): Promise<void>;
}

export function tenantDoc(tenantId: string, did: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    contractVersion: 'v1',
    tenantId,
    dids: [did],
    caps: {},
    stt: { mode: 'whisper_http', chunkMs: 1000 },
    tts: { mode: 'kokoro_http' },
    ...extra,
  };
}

/** `logger`: what the runtimes log to (default: kept in memory, warnings and errors only). */
export async function createHarness(baseOverrides: Record<string, string | undefined> = {}, hopts: { logger?: Logger } = {}): Promise<Harness> {
  const telnyx = await startFakeTelnyxApi();
  const kokoro = await startFakeKokoro({ sampleRate: 8000 });
  const keys = generateTestKeyPair();
  const env = testEnv({
    TELNYX_API_BASE_URL: telnyx.baseUrl,
    TELNYX_API_KEY: telnyx.apiKey,
    TELNYX_PUBLIC_KEY: keys.publicKeyB64,
    KOKORO_URL: kokoro.speechUrl,
    PUBLIC_BASE_URL: 'https://voice.example.test',
    ...baseOverrides,
  });
  const redis = createRedis(env.REDIS_URL!, 'request');
  const runtimes: Runtime[] = [];
  const h: Harness = {
    telnyx,
    kokoro,
    keys,
    env,
    redis,
    runtimes,
    async start(overrides = {}, opts = {}) {
      const rt = await startRuntime(loadConfig({ ...env, ...overrides }), hopts.logger ?? memoryLogger('warn').logger, { defaultMetrics: false, ...opts });
      runtimes.push(rt);
      return rt;
    },
    async seedTenant(tenantId, did, config) {
      await redis.set(`${env.TENANTMAP_PREFIX}:did:${did}`, tenantId);
      await redis.set(`tenantcfg:${tenantId}`, JSON.stringify(config ?? tenantDoc(tenantId, did)));
    },
    async send(rt, eventType, callId, payload = {}, opts = {}) {
      const event = makeEvent(eventType, { call_control_id: callId, ...payload }, { id: opts.id });
      const { rawBody, headers } = signedWebhook(event, { privateKey: keys.privateKey });
      const res = await http.post(`${rt.url}/v1/telnyx/webhook`, rawBody, { headers });
      return { status: res.status, data: res.data as Record<string, unknown> };
    },
    async close() {
      await Promise.all(runtimes.map((r) => r.close()));
      await closeRedis(redis);
      await telnyx.close();
      await kokoro.close();
      // testEnv only names the audio dir and the runtimes made it: ours to remove (a dir the test passed is the test's).
      if (baseOverrides.AUDIO_STORAGE_DIR === undefined) rmSync(env.AUDIO_STORAGE_DIR!, { recursive: true, force: true });
    },
  };
  return h;
}

export { newCallControlId };

export async function waitUntil(fn: () => Promise<boolean> | boolean, timeoutMs = 10_000, stepMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
