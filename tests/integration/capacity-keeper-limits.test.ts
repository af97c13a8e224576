/** LeaseKeeper and limit resolution against the real test Redis. */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { Capacity } from '../../src/lib/capacity/capacity';
import { capacityKeys, tenantCapOverrideKeys } from '../../src/lib/capacity/capacity-keys';
import { LeaseKeeper } from '../../src/lib/capacity/lease-keeper';
import { resolveTenantLimits } from '../../src/lib/capacity/tenant-limits';
import { closeRedis, createRedis } from '../../src/lib/redis';
import { scoreOf, untilRedisTime } from '../support/redis-clock';
import { memoryLogger, testRedisUrl } from '../support/test-config';

const uid = () => randomBytes(4).toString('hex');
const limits = { globalMax: 100, tenantMax: 1, tenantPerMinute: 100 };

let redis: Redis;
beforeAll(() => {
  redis = createRedis(testRedisUrl(), 'request');
});
afterAll(async () => {
  await closeRedis(redis);
});

describe('LeaseKeeper (real Redis)', () => {
  it('keeps leases alive over several TTLs, and they lapse after stop()', async () => {
    const prefix = `t${uid()}:cap`;
    const cap = new Capacity({ redis, prefix });
    // Refreshed every leaseMs / 3: a refresh round may come up to two thirds of a lease late (a
    // starved event loop) before the lease lapses.
    const leaseMs = 900;
    const keeper = new LeaseKeeper({ capacity: cap, leaseMs, logger: memoryLogger().logger });
    const leases = capacityKeys(prefix).tenantLeases('a');
    try {
      expect((await cap.acquire('c1', 'a', limits, leaseMs)).ok).toBe(true);
      const firstExpiry = (await scoreOf(redis, leases, 'c1'))!;
      keeper.add('c1', 'a');
      // Three lease lengths by Redis's clock, the one the capacity scripts judge leases by.
      await untilRedisTime(redis, firstExpiry + 2 * leaseMs);
      expect(keeper.size).toBe(1);
      expect(await cap.acquire('c2', 'a', limits, leaseMs)).toEqual({ ok: false, reason: 'tenant_concurrency' });
      expect(await scoreOf(redis, leases, 'c1')).toBeGreaterThan(firstExpiry + 2 * leaseMs);
    } finally {
      await keeper.stop();
    }
    await keeper.stop(); // idempotent
    // Not refreshed any more: the lease runs out at its last expiry.
    const lastExpiry = (await scoreOf(redis, leases, 'c1'))!;
    await untilRedisTime(redis, lastExpiry);
    expect(await cap.usage('a')).toMatchObject({ global: 0, tenant: 0 }); // a refresh after stop() would have moved it on
  });

  it('drops calls whose lease is gone and reports them', async () => {
    const cap = new Capacity({ redis, prefix: `t${uid()}:cap` });
    const { logger, lines } = memoryLogger();
    const lost: string[] = [];
    const keeper = new LeaseKeeper({ capacity: cap, leaseMs: 300, logger, onLost: (e) => lost.push(e.callId) });
    try {
      await cap.acquire('c1', 'a', limits, 300);
      await cap.acquire('c2', 'b', limits, 300);
      keeper.add('c1', 'a');
      keeper.add('c2', 'b');
      await cap.release('c1', 'a'); // released elsewhere (e.g. by another instance's hangup handling)
      await keeper.refreshNow();
      expect(keeper.size).toBe(1);
      expect(keeper.has('c2')).toBe(true);
      expect(lost).toEqual(['c1']);
      expect(lines().some((l) => l.level === 'warn' && (l.calls as string[]).includes('c1'))).toBe(true);
    } finally {
      await keeper.stop();
    }
  });
});

describe('resolveTenantLimits (real Redis)', () => {
  const defaults = { globalMax: 100, tenantMax: 10, tenantPerMinute: 60 };

  it('uses env defaults when nothing else is set', async () => {
    expect(await resolveTenantLimits({ redis, tenantmapPrefix: `t${uid()}:tenantmap`, tenantId: 'a', defaults })).toEqual(defaults);
  });

  it('tenant config beats env defaults; its global cap applies to its calls', async () => {
    const got = await resolveTenantLimits({
      redis,
      tenantmapPrefix: `t${uid()}:tenantmap`,
      tenantId: 'a',
      tenantCaps: { maxConcurrentCallsTenant: 3, maxCallsPerMinuteTenant: 7, maxConcurrentCallsGlobal: 250 },
      defaults,
    });
    expect(got).toEqual({ globalMax: 250, tenantMax: 3, tenantPerMinute: 7 });
  });

  it('override keys beat tenant config; invalid overrides fall through to the next source', async () => {
    const tenantmapPrefix = `t${uid()}:tenantmap`;
    const tenantCaps = { maxConcurrentCallsTenant: 3, maxCallsPerMinuteTenant: 7 };
    const a = tenantCapOverrideKeys(tenantmapPrefix, 'a');
    await redis.mset(a.concurrency, '5', a.rpm, '9');
    expect(await resolveTenantLimits({ redis, tenantmapPrefix, tenantId: 'a', tenantCaps, defaults })).toEqual({
      globalMax: 100,
      tenantMax: 5,
      tenantPerMinute: 9,
    });
    await redis.mset(a.concurrency, '0', a.rpm, 'lots');
    expect(await resolveTenantLimits({ redis, tenantmapPrefix, tenantId: 'a', tenantCaps, defaults })).toEqual({
      globalMax: 100,
      tenantMax: 3,
      tenantPerMinute: 7,
    });
    await redis.mset(a.concurrency, '2.5', a.rpm, '-4');
    expect(
      await resolveTenantLimits({ redis, tenantmapPrefix, tenantId: 'a', tenantCaps: { maxConcurrentCallsTenant: 0 }, defaults }),
    ).toEqual(defaults);
  });

  it('surfaces Redis failures as a retryable capacity_error', async () => {
    const dead = createRedis(testRedisUrl(), 'request');
    await dead.ping();
    dead.disconnect();
    await expect(resolveTenantLimits({ redis: dead, tenantmapPrefix: 'x', tenantId: 'a', defaults })).rejects.toMatchObject({
      code: 'capacity_error',
      retryable: true,
    });
  });
});
