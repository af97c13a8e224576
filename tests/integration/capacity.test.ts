/** Capacity caps against the real test Redis: every behaviour the call path relies on. */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { AppError } from '../../src/lib/errors';
import { Capacity } from '../../src/lib/capacity/capacity';
import { capacityKeys } from '../../src/lib/capacity/capacity-keys';
import type { CapacityLimits } from '../../src/lib/capacity/types';
import { closeRedis, createRedis } from '../../src/lib/redis';
import { waitUntil } from '../support/call-harness';
import { scoreOf, redisNowMs, untilRedisTime } from '../support/redis-clock';
import { testRedisUrl } from '../support/test-config';

const uid = () => randomBytes(4).toString('hex');
const LEASE = 30_000;
const roomy: CapacityLimits = { globalMax: 100, tenantMax: 100, tenantPerMinute: 100 };

describe('Capacity (real Redis)', () => {
  let redis: Redis;
  const extra: Redis[] = [];
  let prefix: string;
  let cap: Capacity;
  beforeAll(() => {
    redis = createRedis(testRedisUrl(), 'request');
  });
  beforeEach(() => {
    prefix = `t${uid()}:cap`;
    cap = new Capacity({ redis, prefix });
  });
  afterAll(async () => {
    await Promise.all([redis, ...extra].map((r) => closeRedis(r)));
  });

  it('denies over the global cap with reason global_concurrency, across tenants', async () => {
    const limits = { ...roomy, globalMax: 2 };
    expect(await cap.acquire('c1', 'a', limits, LEASE)).toEqual({ ok: true, alreadyHeld: false });
    expect(await cap.acquire('c2', 'b', limits, LEASE)).toEqual({ ok: true, alreadyHeld: false });
    expect(await cap.acquire('c3', 'c', limits, LEASE)).toEqual({ ok: false, reason: 'global_concurrency' });
    expect(await cap.usage('c')).toEqual({ global: 2, tenant: 0, tenantLastMinute: 0 });
  });

  it('checks global before tenant concurrency before rate', async () => {
    const limits = { globalMax: 1, tenantMax: 1, tenantPerMinute: 1 };
    await cap.acquire('c1', 'a', limits, LEASE);
    expect(await cap.acquire('c2', 'a', limits, LEASE)).toEqual({ ok: false, reason: 'global_concurrency' });
    expect(await cap.acquire('c2', 'a', { ...limits, globalMax: 5 }, LEASE)).toEqual({ ok: false, reason: 'tenant_concurrency' });
    expect(await cap.acquire('c2', 'a', { ...limits, globalMax: 5, tenantMax: 5 }, LEASE)).toEqual({ ok: false, reason: 'tenant_rate' });
  });

  it('denies over the tenant cap without affecting other tenants', async () => {
    const limits = { ...roomy, tenantMax: 1 };
    expect((await cap.acquire('c1', 'a', limits, LEASE)).ok).toBe(true);
    expect(await cap.acquire('c2', 'a', limits, LEASE)).toEqual({ ok: false, reason: 'tenant_concurrency' });
    expect((await cap.acquire('c3', 'b', limits, LEASE)).ok).toBe(true);
  });

  it('cancel undoes an acquire entirely: slot and rate admission back (a call that never started)', async () => {
    const limits = { ...roomy, tenantMax: 1, tenantPerMinute: 1 };
    expect((await cap.acquire('c1', 'a', limits, LEASE)).ok).toBe(true);
    expect(await cap.cancel('c1', 'a')).toBe(true);
    expect(await cap.usage('a')).toEqual({ global: 0, tenant: 0, tenantLastMinute: 0 });
    expect(await cap.cancel('c1', 'a')).toBe(false);
    expect((await cap.acquire('c2', 'a', limits, LEASE)).ok).toBe(true);
  });

  it('caps admissions per window; release does not give rate back; denials do not consume it', async () => {
    const limits = { ...roomy, tenantPerMinute: 2 };
    expect((await cap.acquire('c1', 'a', limits, LEASE)).ok).toBe(true);
    expect((await cap.acquire('c2', 'a', limits, LEASE)).ok).toBe(true);
    expect(await cap.acquire('c3', 'a', limits, LEASE)).toEqual({ ok: false, reason: 'tenant_rate' });
    await cap.release('c1', 'a');
    await cap.release('c2', 'a');
    expect(await cap.acquire('c4', 'a', limits, LEASE)).toEqual({ ok: false, reason: 'tenant_rate' });
    expect(await cap.usage('a')).toEqual({ global: 0, tenant: 0, tenantLastMinute: 2 });
  });

  it('uses a sliding window, not a fixed bucket', async () => {
    // Admission times are Redis's (TIME in the script); the waits below are on its clock. Each
    // check has half a window of slack for a late test process.
    const windowMs = 3000;
    const sliding = new Capacity({ redis, prefix, rateWindowMs: windowMs });
    const limits = { ...roomy, tenantPerMinute: 2 };
    const rate = capacityKeys(prefix).tenantRate('a');
    expect((await sliding.acquire('c1', 'a', limits, LEASE)).ok).toBe(true);
    const c1At = (await scoreOf(redis, rate, 'c1'))!;
    await untilRedisTime(redis, c1At + windowMs / 2);
    expect((await sliding.acquire('c2', 'a', limits, LEASE)).ok).toBe(true);
    expect(await sliding.acquire('c3', 'a', limits, LEASE)).toEqual({ ok: false, reason: 'tenant_rate' });
    // c1 has left the window, c2 (admitted half a window later) has not: exactly one admission reopens.
    await untilRedisTime(redis, c1At + windowMs);
    expect((await sliding.acquire('c3', 'a', limits, LEASE)).ok).toBe(true);
    expect(await sliding.acquire('c4', 'a', limits, LEASE)).toEqual({ ok: false, reason: 'tenant_rate' });
  });

  it('release frees a slot, reports whether it was held, and is idempotent', async () => {
    const limits = { ...roomy, tenantMax: 1 };
    await cap.acquire('c1', 'a', limits, LEASE);
    expect((await cap.acquire('c2', 'a', limits, LEASE)).ok).toBe(false);
    expect(await cap.release('c1', 'a')).toBe(true);
    expect(await cap.release('c1', 'a')).toBe(false);
    expect(await cap.release('never', 'a')).toBe(false);
    expect((await cap.acquire('c2', 'a', limits, LEASE)).ok).toBe(true);
    expect(await cap.usage('a')).toMatchObject({ global: 1, tenant: 1 });
  });

  it('acquiring twice for the same call counts once and refreshes the lease', async () => {
    const limits = { globalMax: 1, tenantMax: 1, tenantPerMinute: 1 };
    const leaseMs = 1000;
    const leases = capacityKeys(prefix).tenantLeases('a');
    expect(await cap.acquire('c1', 'a', limits, leaseMs)).toEqual({ ok: true, alreadyHeld: false });
    const first = (await scoreOf(redis, leases, 'c1'))!;
    await untilRedisTime(redis, first - leaseMs / 2);
    expect(await cap.acquire('c1', 'a', limits, leaseMs)).toEqual({ ok: true, alreadyHeld: true });
    await untilRedisTime(redis, first); // past the first lease, inside the refreshed one
    expect(await cap.usage('a')).toEqual({ global: 1, tenant: 1, tenantLastMinute: 1 });
  });

  it('frees the slot of a crashed instance once its lease expires', async () => {
    const crashed = createRedis(testRedisUrl(), 'request');
    extra.push(crashed);
    const limits = { ...roomy, tenantMax: 1 };
    await new Capacity({ redis: crashed, prefix }).acquire('dead-call', 'a', limits, 1000);
    const expiry = (await scoreOf(redis, capacityKeys(prefix).tenantLeases('a'), 'dead-call'))!;
    crashed.disconnect(); // the instance dies without releasing
    expect(await cap.acquire('c2', 'a', limits, LEASE)).toEqual({ ok: false, reason: 'tenant_concurrency' });
    await untilRedisTime(redis, expiry);
    expect(await cap.usage('a')).toMatchObject({ global: 0, tenant: 0 });
    expect(await cap.acquire('c2', 'a', limits, LEASE)).toEqual({ ok: true, alreadyHeld: false });
  });

  it('refresh keeps a slot alive past its original lease', async () => {
    const limits = { ...roomy, tenantMax: 1 };
    const leaseMs = 1000;
    const leases = capacityKeys(prefix).tenantLeases('a');
    await cap.acquire('c1', 'a', limits, leaseMs);
    const original = (await scoreOf(redis, leases, 'c1'))!;
    let expiry = original;
    // Refreshed each half lease (Redis's clock), three times: half a lease of slack per step.
    for (let i = 0; i < 3; i++) {
      await untilRedisTime(redis, expiry - leaseMs / 2);
      expect(await cap.refresh([{ callId: 'c1', tenantId: 'a' }], leaseMs)).toEqual([]);
      expiry = (await scoreOf(redis, leases, 'c1'))!;
    }
    expect(await redisNowMs(redis)).toBeGreaterThanOrEqual(original);
    // Half a lease past the original lease: still held.
    expect(await cap.acquire('c2', 'a', limits, LEASE)).toEqual({ ok: false, reason: 'tenant_concurrency' });
  });

  it('refresh never resurrects a released or expired lease and reports it gone', async () => {
    await cap.acquire('c1', 'a', roomy, LEASE);
    await cap.acquire('c2', 'a', roomy, LEASE);
    await cap.acquire('c3', 'b', roomy, 200);
    const c3Expiry = (await scoreOf(redis, capacityKeys(prefix).tenantLeases('b'), 'c3'))!;
    await cap.release('c1', 'a');
    await untilRedisTime(redis, c3Expiry);
    const gone = await cap.refresh(
      [
        { callId: 'c1', tenantId: 'a' },
        { callId: 'c2', tenantId: 'a' },
        { callId: 'c3', tenantId: 'b' },
      ],
      LEASE,
    );
    expect(gone.sort()).toEqual(['c1', 'c3']);
    const k = capacityKeys(prefix);
    expect(await redis.zscore(k.tenantLeases('a'), 'c1')).toBeNull();
    expect(await redis.zscore(k.globalLeases, 'c3')).toBeNull();
    expect(await cap.usage('a')).toMatchObject({ global: 1, tenant: 1 });
    expect(await cap.refresh([], LEASE)).toEqual([]);
  });

  it('sets key TTLs so an idle tenant leaves nothing behind', async () => {
    const short = new Capacity({ redis, prefix, rateWindowMs: 1500 });
    await short.acquire('c1', 'a', roomy, 1000);
    const k = capacityKeys(prefix);
    const keys = [k.globalLeases, k.tenantLeases('a'), k.tenantRate('a')];
    const ttls = await Promise.all(keys.map((key) => redis.pttl(key)));
    for (const ttl of ttls) {
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(1500);
    }
    // Gone once the longest TTL has run out (Redis expires keys by its own clock).
    await waitUntil(async () => (await redis.exists(...keys)) === 0, Math.max(...ttls) + 10_000);
  });

  it('admits exactly tenantMax of 50 concurrent acquires from several clients', async () => {
    const clients = Array.from({ length: 5 }, () => createRedis(testRedisUrl(), 'request'));
    extra.push(...clients);
    const caps = clients.map((c) => new Capacity({ redis: c, prefix }));
    const limits = { ...roomy, tenantMax: 10 };
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => caps[i % caps.length].acquire(`c${i}`, 'a', limits, LEASE)),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(10);
    expect(results.filter((r) => !r.ok && r.reason === 'tenant_concurrency')).toHaveLength(40);
    expect(await cap.usage('a')).toEqual({ global: 10, tenant: 10, tenantLastMinute: 10 });
  });

  it('surfaces Redis failures as a retryable capacity_error', async () => {
    // A closed connection (no stray reconnect timers, unlike an unreachable port).
    const dead = createRedis(testRedisUrl(), 'request');
    extra.push(dead);
    await dead.ping();
    dead.disconnect();
    const err = await new Capacity({ redis: dead, prefix }).acquire('c1', 'a', roomy, LEASE).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'capacity_error', retryable: true });
    // A Lua runtime error (wrong key type) takes the same path.
    await redis.set(capacityKeys(prefix).globalLeases, 'not-a-zset');
    await expect(cap.usage('a')).rejects.toMatchObject({ code: 'capacity_error', retryable: true });
  });

  it('rejects invalid arguments before calling Redis', async () => {
    await expect(cap.acquire('c1', 'a', roomy, 0)).rejects.toMatchObject({ code: 'capacity_invalid_argument' });
    await expect(cap.acquire('c1', 'a', { ...roomy, tenantMax: 1.5 }, LEASE)).rejects.toMatchObject({ code: 'capacity_invalid_argument' });
  });
});
