import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Router } from 'express';
import { adminRouter } from '../../src/api/admin';
import { AuthThrottle } from '../../src/lib/auth-throttle/auth-throttle';
import { closeRedis, createRedis } from '../../src/lib/redis';
import { memoryLogger, testRedisUrl } from '../support/test-config';
import { createApp } from '../../src/api/app';
import { audioFilesRouter } from '../../src/api/audio-files';
import { createMetrics } from '../../src/lib/metrics';


function send(port: number, method: string, p: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: p, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Seeded so a failure is reproducible. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('HTTP metric labels come from the app, never from the request', () => {
  const metrics = createMetrics({ defaultMetrics: false });
  let server: http.Server;
  let port: number;
  let dir: string;
  const redis = createRedis(testRedisUrl(), 'request');

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'veralux-labels-'));
    const hello = Router();
    hello.get('/v1/things/:id', (req, res) => void res.json({ id: req.params.id }));
    const app = createApp({
      logger: memoryLogger('silent').logger,
      metrics,
      routers: [
        hello,
        audioFilesRouter({ storageDir: dir, publicBaseUrl: 'http://example.test/audio/' }),
        adminRouter({
          user: 'admin',
          password: 'a-long-admin-password-for-tests-0001',
          queues: [],
          readOnly: true,
          throttle: new AuthThrottle(redis, { prefix: `labels-${process.pid}`, scope: 'admin' }),
        }),
      ],
    });
    server = http.createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
    await closeRedis(redis);
  });

  it('keeps the series count bounded under mixed-case paths, unknown routes and made-up methods', async () => {
    const rand = rng(42);
    const flip = (s: string) => [...s].map((c) => (rand() < 0.5 ? c.toUpperCase() : c.toLowerCase())).join('');
    const methods = ['GET', 'POST', 'PROPFIND', 'MKCOL', 'PURGE', 'LOCK'];
    for (let i = 0; i < 200; i += 1) {
      const method = methods[Math.floor(rand() * methods.length)]!;
      const p = [flip('/admin/queues'), flip('/audio/') + 'abcdefgh12.wav', `/v1/things/${i}`, flip('/v1/THINGS/') + i, `/nope/${i}`][i % 5]!;
      await send(port, method, p);
    }
    const series = (await metrics.registry.getSingleMetric('http_request_duration_seconds')!.get()).values.filter(
      (v) => (v as { metricName?: string }).metricName === 'http_request_duration_seconds_count',
    );
    const routes = new Set(series.map((v) => String(v.labels.route)));
    const methodsSeen = new Set(series.map((v) => String(v.labels.method)));
    expect([...methodsSeen].every((m) => ['GET', 'POST', 'other'].includes(m))).toBe(true);
    // Only patterns written in the code (or "other") appear as routes.
    for (const r of routes) expect(['other', '/v1/things/:id', '/audio/:name'].includes(r) || r.startsWith('/admin/queues')).toBe(true);
    expect(routes.has('/v1/things/:id')).toBe(true);
    expect(series.length).toBeLessThan(30);
  });
});
