/**
 * /health tells anonymous callers only ok/down per dependency (no error texts, hosts or ports);
 * the METRICS_TOKEN bearer sees the details. Checks are shared and briefly cached (a burst of
 * probes costs one Redis PING) and HTTP checks reuse one kept-alive connection.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import axios from 'axios';
import { Redis } from 'ioredis';
import { createApp } from '../../src/api/app';
import { httpReachableCheck } from '../../src/api/dependency-checks';
import { healthRouter, HEALTH_CACHE_MS, type DependencyCheck } from '../../src/api/health';
import { createMetrics } from '../../src/lib/metrics';
import { startRuntime, type Runtime } from '../../src/runtime';
import { freePort, startRedisServer, type RedisServerHandle } from '../support/redis-server';
import { memoryLogger, strongSecret, testConfig } from '../support/test-config';

const client = axios.create({ validateStatus: () => true, timeout: 5000 });
const TOKEN = strongSecret();
const bearer = { headers: { authorization: `Bearer ${TOKEN}` } };

describe('/health while Redis is down', () => {
  let rt: Runtime;
  let redisPort: number;
  beforeAll(async () => {
    redisPort = await freePort();
    rt = await startRuntime(testConfig({ REDIS_URL: `redis://127.0.0.1:${redisPort}`, METRICS_TOKEN: TOKEN }), memoryLogger().logger, { defaultMetrics: false });
  });
  afterAll(() => rt.close());

  it('shows anonymous callers only ok/down, without error texts, hosts or ports', async () => {
    for (const path of ['/health', '/health/ready']) {
      const r = await client.get(`${rt.url}${path}`, { responseType: 'text' });
      expect(r.status).toBe(503);
      const text = String(r.data);
      for (const leak of ['127.0.0.1', String(redisPort), 'ECONNREFUSED', 'error', 'latency', 'redis connection']) expect(text).not.toContain(leak);
    }
    expect((await client.get(`${rt.url}/health`)).data).toEqual({ status: 'unhealthy', checks: { redis: 'down', whisper: 'down', kokoro: 'down' } });
    expect((await client.get(`${rt.url}/health/ready`)).data).toEqual({ status: 'not_ready', checks: { redis: 'down' } });
    // A wrong token is anonymous.
    expect((await client.get(`${rt.url}/health`, { headers: { authorization: 'Bearer nope' } })).data.checks.redis).toBe('down');
  });

  it('gives the METRICS_TOKEN bearer the details', async () => {
    const r = await client.get(`${rt.url}/health`, bearer);
    expect(r.status).toBe(503);
    expect(r.data.checks.redis).toMatchObject({ name: 'redis', status: 'down', critical: true });
    expect(r.data.checks.redis.error).toEqual(expect.any(String));
    expect(r.data.checks.whisper.error).toMatch(/ECONNREFUSED 127\.0\.0\.1:1/);
    expect((await client.get(`${rt.url}/health/ready`, bearer)).data.checks.redis.status).toBe('down');
  });

  it('keeps /health/live instant and dependency-free', async () => {
    const r = await client.get(`${rt.url}/health/live`);
    expect(r.status).toBe(200);
    expect(r.data.status).toBe('ok');
  });
});

describe('/health under a burst of requests', () => {
  let redis: RedisServerHandle;
  let rt: Runtime;
  let probe: Redis;
  beforeAll(async () => {
    redis = await startRedisServer();
    rt = await startRuntime(testConfig({ REDIS_URL: redis.url }), memoryLogger().logger, { defaultMetrics: false });
    probe = new Redis(redis.url);
  });
  afterAll(async () => {
    probe.disconnect();
    await rt.close();
    await redis.destroy();
  });

  const pings = async () => Number(/cmdstat_ping:calls=(\d+)/.exec(await probe.info('commandstats'))?.[1] ?? 0);

  it('costs at most one Redis PING for 25 concurrent requests', async () => {
    // Readiness first (its own cached check), then count from zero.
    while ((await client.get(`${rt.url}/health/ready`)).status !== 200) await new Promise((r) => setTimeout(r, 50));
    await probe.config('RESETSTAT');
    const rs = await Promise.all(Array.from({ length: 25 }, () => client.get(`${rt.url}/health`)));
    expect(rs.map((r) => r.data.checks.redis)).toEqual(rs.map(() => 'ok'));
    expect(await pings()).toBeLessThanOrEqual(1);
  });
});

describe('shared, cached dependency checks', () => {
  let server: http.Server;
  let url: string;
  let now = 0;
  const calls = { count: 0 };
  let release: (() => void) | undefined;
  const slow: DependencyCheck = {
    name: 'slow',
    critical: true,
    check: () => {
      calls.count += 1;
      return new Promise<void>((resolve) => (release = resolve));
    },
  };
  beforeAll(async () => {
    const router = healthRouter({ readiness: slow, dependencies: [], timeoutMs: 5000, isShuttingDown: () => false, now: () => now });
    server = http.createServer(createApp({ logger: memoryLogger().logger, metrics: createMetrics({ defaultMetrics: false }), routers: [router] }));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('runs one check for concurrent requests, reuses it while fresh, and checks again once stale', async () => {
    const burst = Array.from({ length: 10 }, () => client.get(`${url}/health`));
    // The requests wait on the one check in flight.
    while (calls.count === 0) await new Promise((r) => setImmediate(r));
    release!();
    expect((await Promise.all(burst)).map((r) => r.status)).toEqual(burst.map(() => 200));
    expect(calls.count).toBe(1);

    now += HEALTH_CACHE_MS - 1;
    expect((await client.get(`${url}/health`)).status).toBe(200);
    expect(calls.count).toBe(1);

    now += 1;
    const stale = client.get(`${url}/health`);
    while (calls.count === 1) await new Promise((r) => setImmediate(r));
    release!();
    expect((await stale).status).toBe(200);
    expect(calls.count).toBe(2);
  });
});

describe('HTTP dependency check', () => {
  it('reuses one kept-alive connection from check to check', async () => {
    let connections = 0;
    let requests = 0;
    const server = http.createServer((_req, res) => {
      requests += 1;
      // Speech servers answer an unknown route with a delimited 404 (Content-Length), as here.
      res.writeHead(404, { 'content-length': '0' }).end();
    });
    server.on('connection', () => (connections += 1));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const check = httpReachableCheck('whisper', `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/audio/transcriptions`, 2000);
    try {
      for (let i = 0; i < 3; i += 1) await check.check();
      expect(requests).toBe(3);
      expect(connections).toBe(1);
    } finally {
      check.close?.();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
