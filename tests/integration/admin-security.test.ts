/**
 * /admin/queues against guessing and misuse: failed Basic-auth logins are throttled per client IP
 * in Redis (holds across a restart, ignores a forged X-Forwarded-For unless a proxy is trusted), and
 * the queue board is read-only except for retrying failed jobs. Clients get distinct loopback source
 * addresses (127.0.0.x) so they are distinct IPs to the server.
 */
import http from 'node:http';
import axios, { type AxiosRequestConfig } from 'axios';
import { Worker } from 'bullmq';
import { AUTH_MAX_FAILURES, AUTH_WINDOW_MS } from '../../src/lib/auth-throttle/auth-throttle';
import { createRedis, closeRedis } from '../../src/lib/redis';
import { startRuntime, type Runtime } from '../../src/runtime';
import { createHarness, type Harness } from '../support/call-harness';
import { freePort } from '../support/redis-server';
import { memoryLogger, testConfig } from '../support/test-config';

jest.setTimeout(60_000);

const USER = 'admin';
const PASSWORD = 'correct-horse-battery-staple';
const agents: http.Agent[] = [];
/** An HTTP client whose connections come from this loopback address. */
function from(ip: string) {
  const agent = new http.Agent({ localAddress: ip });
  agents.push(agent);
  return axios.create({ httpAgent: agent, validateStatus: () => true, timeout: 5000 });
}
const right = { auth: { username: USER, password: PASSWORD } } satisfies AxiosRequestConfig;
const wrong = { auth: { username: USER, password: 'guess' } } satisfies AxiosRequestConfig;

afterAll(() => {
  for (const a of agents) a.destroy();
});

describe('admin login throttle', () => {
  let h: Harness;
  let rt: Runtime;
  beforeAll(async () => {
    // The runtime faces clients directly (TRUST_PROXY=false): by default loopback and private-range proxies are trusted.
    h = await createHarness({ ADMIN_USER: USER, ADMIN_PASSWORD: PASSWORD, TRUST_PROXY: 'false' });
    rt = await h.start();
  });
  afterAll(() => h.close());

  const queuesApi = (rtUrl: string) => `${rtUrl}/admin/queues/api/queues`;

  it(`answers 429 with Retry-After after ${AUTH_MAX_FAILURES} wrong passwords, even to the right one; another IP still logs in`, async () => {
    const attacker = from('127.0.0.2');
    for (let i = 0; i < AUTH_MAX_FAILURES; i += 1) expect((await attacker.get(queuesApi(rt.url!), wrong)).status).toBe(401);
    const blocked = await attacker.get(queuesApi(rt.url!), wrong);
    expect(blocked.status).toBe(429);
    expect(blocked.data.error).toBe('too_many_attempts');
    const retryAfter = Number(blocked.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(AUTH_WINDOW_MS / 1000);
    // Blocked before the credentials are looked at: a right guess is not revealed.
    expect((await attacker.get(queuesApi(rt.url!), right)).status).toBe(429);
    // A forged X-Forwarded-For does not make a new client (no proxy is trusted here).
    expect((await attacker.get(queuesApi(rt.url!), { ...right, headers: { 'x-forwarded-for': '203.0.113.9' } })).status).toBe(429);

    const admin = from('127.0.0.3');
    expect((await admin.get(queuesApi(rt.url!), right)).status).toBe(200);
    // The admin's success reset nothing for the attacker.
    expect((await attacker.get(queuesApi(rt.url!), right)).status).toBe(429);
  });

  it('does not count requests without credentials (a browser asks only after the 401)', async () => {
    const browser = from('127.0.0.4');
    for (let i = 0; i < AUTH_MAX_FAILURES * 2; i += 1) expect((await browser.get(`${rt.url}/admin/queues`)).status).toBe(401);
    expect((await browser.get(queuesApi(rt.url!), right)).status).toBe(200);
  });

  it('keeps the block in Redis: a restarted runtime on the same Redis still refuses', async () => {
    const attacker = from('127.0.0.5');
    for (let i = 0; i < AUTH_MAX_FAILURES; i += 1) await attacker.get(queuesApi(rt.url!), wrong);
    expect((await attacker.get(queuesApi(rt.url!), wrong)).status).toBe(429);
    await rt.close();
    rt = await h.start();
    const again = await attacker.get(queuesApi(rt.url!), right);
    expect(again.status).toBe(429);
    expect(Number(again.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(await h.redis.exists(`${h.env.STATE_PREFIX}:auth-failures:admin:::ffff:127.0.0.5`)).toBe(1);
  });

  it('with TRUST_PROXY=1 throttles the forwarded client, not the proxy', async () => {
    const proxied = await h.start({ TRUST_PROXY: '1' });
    const proxy = from('127.0.0.6');
    const as = (client: string) => ({ headers: { 'x-forwarded-for': client } });
    for (let i = 0; i < AUTH_MAX_FAILURES; i += 1) await proxy.get(queuesApi(proxied.url!), { ...wrong, ...as('198.51.100.1') });
    expect((await proxy.get(queuesApi(proxied.url!), { ...right, ...as('198.51.100.1') })).status).toBe(429);
    expect((await proxy.get(queuesApi(proxied.url!), { ...right, ...as('198.51.100.2') })).status).toBe(200);
  });
});

describe('admin login while Redis is down', () => {
  it('answers 503 instead of letting guesses through unthrottled', async () => {
    const port = await freePort();
    const rt = await startRuntime(testConfig({ REDIS_URL: `redis://127.0.0.1:${port}`, ADMIN_USER: USER, ADMIN_PASSWORD: PASSWORD }), memoryLogger().logger, {
      defaultMetrics: false,
    });
    try {
      const r = await from('127.0.0.8').get(`${rt.url}/admin/queues/api/queues`, wrong);
      expect(r.status).toBe(503);
      expect(r.data.error).toBe('admin_unavailable');
    } finally {
      await rt.close();
    }
  });
});

describe('read-only queue board', () => {
  let h: Harness;
  let rt: Runtime;
  let worker: Worker | undefined;
  const admin = from('127.0.0.7');
  beforeAll(async () => {
    // PROCESS_ROLE=api: no runtime workers, so this test's worker alone decides how jobs end.
    h = await createHarness({ ADMIN_USER: USER, ADMIN_PASSWORD: PASSWORD, PROCESS_ROLE: 'api' });
    rt = await h.start();
  });
  afterAll(async () => {
    await worker?.close();
    await h.close();
  });

  const api = (p: string) => `${rt.url}/admin/queues/api/queues${p}`;

  /** Runs `names` through a worker on the tts queue: "boom" fails, anything else completes. */
  async function settle(names: string[]): Promise<{ failed: string; completed: string }> {
    const jobs = await Promise.all(names.map((n) => rt.queues.tts.add(n, {}, { attempts: 1 })));
    const connection = createRedis(h.env.REDIS_URL!, 'bullmq');
    worker = new Worker(
      rt.queues.tts.name,
      async (job) => {
        if (job.name === 'boom') throw new Error('boom');
      },
      { connection, prefix: h.env.QUEUE_PREFIX },
    );
    const ids = new Set(jobs.map((j) => j.id!));
    const ends = new Set<string>();
    await new Promise<void>((resolve) => {
      const done = (job?: { id?: string }) => {
        if (job?.id && ids.has(job.id)) ends.add(job.id);
        if (ends.size === ids.size) resolve();
      };
      worker!.on('failed', done);
      worker!.on('completed', done);
    });
    await worker.close();
    worker = undefined;
    await closeRedis(connection);
    return { failed: jobs[names.indexOf('boom')]!.id!, completed: jobs[names.indexOf('fine')]!.id! };
  }

  it('refuses adding, cleaning, emptying, pausing, editing and retrying completed jobs; retries failed ones', async () => {
    const { failed, completed } = await settle(['boom', 'fine']);
    const refused = [
      await admin.post(api('/tts/add'), { name: 'injected', data: {}, options: {} }, right),
      await admin.put(api('/tts/clean/completed'), {}, right),
      await admin.put(api('/tts/empty'), {}, right),
      await admin.put(api('/tts/pause'), {}, right),
      await admin.put(api('/pause'), {}, right),
      await admin.patch(api(`/tts/${failed}/update-data`), { data: { x: 1 } }, right),
      await admin.put(api(`/tts/${failed}/clean`), {}, right),
      await admin.put(api('/tts/retry/completed'), {}, right),
      await admin.put(api(`/tts/${completed}/retry`), {}, right),
      await admin.put(api('/tts/obliterate'), {}, right),
    ];
    expect(refused.map((r) => r.status)).toEqual(refused.map(() => 403));
    expect(refused[0]!.data.error).toBe('read_only');
    expect((await rt.queues.tts.getJobCounts('waiting')).waiting).toBe(0);
    expect(await rt.queues.tts.isPaused()).toBe(false);
    expect(await rt.queues.tts.getJobState(completed)).toBe('completed');

    // Reads still work, and a failed job can be retried.
    expect((await admin.get(api(''), right)).status).toBe(200);
    expect((await admin.put(api(`/tts/${failed}/retry`), {}, right)).status).toBe(204);
    expect(await rt.queues.tts.getJobState(failed)).toBe('waiting');
  });

  it('retries all failed jobs of a queue', async () => {
    await settle(['boom', 'fine']);
    const r = await admin.put(api('/tts/retry/failed'), {}, right);
    expect(r.status).toBe(200);
    expect(r.data.retried).toBeGreaterThanOrEqual(1);
    expect((await rt.queues.tts.getJobCounts('failed')).failed).toBe(0);
  });

  it('ADMIN_QUEUES_READ_ONLY=false gives the full board (the requests above are well-formed)', async () => {
    const full = await h.start({ ADMIN_QUEUES_READ_ONLY: 'false' });
    const r = await admin.post(`${full.url}/admin/queues/api/queues/tts/add`, { name: 'by-hand', data: {}, options: {} }, right);
    expect(r.status).toBe(200);
    expect(r.data.status).toBe('waiting');
  });
});
