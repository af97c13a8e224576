import { mkdtempSync, utimesSync, writeFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import axios from 'axios';
import { startRuntime, type Runtime } from '../../src/runtime';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server';
import { memoryLogger, testConfig } from '../support/test-config';

const http = axios.create({ validateStatus: () => true, timeout: 5000 });

async function waitFor<T>(fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000, stepMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

describe('runtime foundation (real Redis, real HTTP)', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await startRuntime(testConfig({ ADMIN_USER: 'admin', ADMIN_PASSWORD: 's3cret' }), memoryLogger().logger, { defaultMetrics: true });
  });
  afterAll(async () => {
    await rt.close();
  });

  it('serves liveness and readiness', async () => {
    expect((await http.get(`${rt.url}/health/live`)).status).toBe(200);
    const ready = await waitFor(async () => {
      const r = await http.get(`${rt.url}/health/ready`);
      return r.status === 200 ? r : undefined;
    });
    expect(ready.data.status).toBe('ready');
  });

  it('reports dependency checks: unreachable speech servers make it degraded, not unhealthy', async () => {
    const r = await http.get(`${rt.url}/health`);
    expect(r.status).toBe(200);
    expect(r.data.status).toBe('degraded');
    expect(r.data.checks).toEqual({ redis: 'ok', whisper: 'down', kokoro: 'down' });
  });

  it('answers the WebRTC endpoints with webrtc_disabled while TRANSPORT_MODE=pstn', async () => {
    const r = await http.post(`${rt.url}/v1/webrtc/offer`, { offer: {}, tenant_id: 't' });
    expect(r.status).toBe(404);
    expect(r.data.error).toBe('webrtc_disabled');
    expect(r.data.message).toContain('TRANSPORT_MODE=webrtc_hd');
  });

  it('answers unknown routes with a JSON 404', async () => {
    const r = await http.get(`${rt.url}/no/such/route`);
    expect(r.status).toBe(404);
    expect(r.data).toEqual({ error: 'not_found', message: 'no route for GET /no/such/route' });
    expect(r.headers['x-request-id']).toBeTruthy();
  });

  it('keeps bull-board behind basic auth and shows the queues with credentials', async () => {
    const anon = await http.get(`${rt.url}/admin/queues`);
    expect(anon.status).toBe(401);
    expect(anon.data.error).toBe('unauthorized');
    const wrong = await http.get(`${rt.url}/admin/queues/api/queues`, { auth: { username: 'admin', password: 'nope' } });
    expect(wrong.status).toBe(401);
    const ok = await http.get(`${rt.url}/admin/queues/api/queues`, { auth: { username: 'admin', password: 's3cret' } });
    expect(ok.status).toBe(200);
    const names = (ok.data.queues as { name: string }[]).map((q) => q.name).sort();
    expect(names).toEqual(['call-control', 'maintenance', 'telnyx-events', 'tts']);
    const page = await http.get(`${rt.url}/admin/queues`, { auth: { username: 'admin', password: 's3cret' } });
    expect(page.status).toBe(200);
    expect(String(page.data)).toContain('<html');
  });

  it('exposes Prometheus metrics with queue gauges, HTTP histogram and process metrics', async () => {
    await rt.queues.tts.add('probe', {}, { delay: 60_000 });
    const r = await http.get(`${rt.url}/metrics`);
    expect(r.status).toBe(200);
    expect(r.data).toMatch(/queue_jobs\{queue="tts",state="delayed"\} 1/);
    expect(r.data).toMatch(/queue_jobs\{queue="call-control",state="waiting"\} 0/);
    expect(r.data).toContain('http_request_duration_seconds_bucket');
    expect(r.data).toContain('process_resident_memory_bytes');
  });
});

describe('admin without credentials configured', () => {
  it('refuses everything', async () => {
    const rt = await startRuntime(testConfig(), memoryLogger().logger, { defaultMetrics: false });
    try {
      const r = await http.get(`${rt.url}/admin/queues/api/queues`, { auth: { username: '', password: '' } });
      expect(r.status).toBe(401);
      expect(r.data.error).toBe('admin_disabled');
    } finally {
      await rt.close();
    }
  });
});

describe('metrics token', () => {
  it('requires the bearer token when METRICS_TOKEN is set', async () => {
    const rt = await startRuntime(testConfig({ METRICS_TOKEN: 'scrape-me' }), memoryLogger().logger, { defaultMetrics: false });
    try {
      expect((await http.get(`${rt.url}/metrics`)).status).toBe(401);
      expect((await http.get(`${rt.url}/metrics`, { headers: { authorization: 'Bearer scrape-me' } })).status).toBe(200);
    } finally {
      await rt.close();
    }
  });
});

describe('Redis outage', () => {
  let redis: RedisServerHandle;
  let rt: Runtime;
  beforeAll(async () => {
    redis = await startRedisServer();
    rt = await startRuntime(testConfig({ REDIS_URL: redis.url }), memoryLogger().logger, { defaultMetrics: false });
  });
  afterAll(async () => {
    await rt.close();
    await redis.destroy();
  });

  it('turns readiness 503 while Redis is down and 200 again after it restarts, without a runtime restart', async () => {
    const ready = async (want: number) =>
      waitFor(async () => ((await http.get(`${rt.url}/health/ready`)).status === want ? true : undefined), 15_000, 100);
    await ready(200);
    await redis.stop();
    await ready(503);
    const body = (await http.get(`${rt.url}/health`)).data;
    expect(body.status).toBe('unhealthy');
    await redis.restart();
    await ready(200);
  });
});

describe('boot without Redis', () => {
  it('comes up, answers live 200 and ready 503, and shuts down promptly', async () => {
    const { freePort } = await import('../support/redis-server');
    const port = await freePort();
    const rt = await startRuntime(testConfig({ REDIS_URL: `redis://127.0.0.1:${port}` }), memoryLogger().logger, { defaultMetrics: false });
    try {
      expect((await http.get(`${rt.url}/health/live`)).status).toBe(200);
      expect((await http.get(`${rt.url}/health/ready`)).status).toBe(503);
    } finally {
      const t0 = Date.now();
      await rt.close();
      expect(Date.now() - t0).toBeLessThan(5000);
    }
  });
});

describe('scheduled audio cleanup', () => {
  it('deletes only files older than AUDIO_CLEANUP_HOURS, on its schedule', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'veralux-cleanup-'));
    const oldFile = path.join(dir, 'old.wav');
    const freshFile = path.join(dir, 'fresh.wav');
    const nested = path.join(dir, 'sub');
    mkdirSync(nested);
    const nestedOld = path.join(nested, 'kept.wav');
    for (const f of [oldFile, freshFile, nestedOld]) writeFileSync(f, 'x');
    const twoHoursAgo = (Date.now() - 2 * 3600_000) / 1000;
    utimesSync(oldFile, twoHoursAgo, twoHoursAgo);
    utimesSync(nestedOld, twoHoursAgo, twoHoursAgo);
    const halfHourAgo = (Date.now() - 1800_000) / 1000;
    utimesSync(freshFile, halfHourAgo, halfHourAgo);

    const rt = await startRuntime(testConfig({ AUDIO_STORAGE_DIR: dir, AUDIO_CLEANUP_HOURS: '1' }), memoryLogger().logger, {
      defaultMetrics: false,
      audioCleanupEveryMs: 300,
    });
    try {
      await waitFor(() => (existsSync(oldFile) ? undefined : true), 10_000);
      const schedulers = await rt.queues.maintenance.getJobSchedulers();
      expect(schedulers.map((s) => [s.key, s.every])).toEqual([['audio-cleanup', 300]]);
      // Let at least one more scheduled run pass: the fresh file and the nested one must survive it.
      const before = (await rt.queues.maintenance.getJobCounts('completed')).completed ?? 0;
      await waitFor(async () => (((await rt.queues.maintenance.getJobCounts('completed')).completed ?? 0) > before ? true : undefined));
      expect(existsSync(freshFile)).toBe(true);
      expect(existsSync(nestedOld)).toBe(true);
    } finally {
      await rt.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
