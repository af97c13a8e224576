/**
 * CallAdmission on the real test Redis: the real TenantResolver, capacity scripts and LeaseKeeper,
 * one admission per line as the runtime builds them (phone: by DID, override keys > tenant caps >
 * env; browser: by tenant id, the tenant's webrtc block > env, its own key space).
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { browserCallLimits, Capacity, capacityKeys, LeaseKeeper, resolveTenantLimits, tenantCapOverrideKeys, webrtcCapacityPrefix } from '../../src/lib/capacity';
import type { CapacityLimits } from '../../src/lib/capacity/types';
import { CallAdmission, type AdmissionOutcome, type AdmittedCall } from '../../src/lib/calls/admission';
import { closeRedis, createRedis } from '../../src/lib/redis';
import { TenantResolver } from '../../src/lib/tenants/tenant-resolver';
import { memoryLogger, testRedisUrl } from '../support/test-config';

const uid = () => randomBytes(4).toString('hex');
const PHONE_DEFAULTS: CapacityLimits = { globalMax: 100, tenantMax: 10, tenantPerMinute: 60 };
const BROWSER_DEFAULTS: CapacityLimits = { globalMax: 50, tenantMax: 4, tenantPerMinute: 20 };
const LEASE_MS = 60_000;

let redis: Redis;
beforeAll(() => {
  redis = createRedis(testRedisUrl(), 'request');
});
afterAll(() => closeRedis(redis));

interface Line {
  admission: CallAdmission;
  capacity: Capacity;
  leases: LeaseKeeper;
  denied: string[];
  active: number[];
  logs: () => Record<string, unknown>[];
}

function lines() {
  const id = uid();
  const tenantmap = `t${id}:tenantmap`;
  const capPrefix = `t${id}:cap`;
  const tenants = new TenantResolver(redis, tenantmap, 5000);
  const build = (line: 'phone' | 'webrtc', prefix: string, limitsFor: (tenantId: string, cfg: { caps?: object; webrtc?: object }) => Promise<CapacityLimits> | CapacityLimits): Line => {
    const { logger, lines: logs } = memoryLogger();
    const capacity = new Capacity({ redis, prefix });
    const leases = new LeaseKeeper({ capacity, leaseMs: LEASE_MS, logger });
    const denied: string[] = [];
    const active: number[] = [];
    const admission = new CallAdmission({
      line,
      tenants,
      limitsFor,
      capacity,
      leases,
      leaseMs: LEASE_MS,
      metrics: { denied: (r) => void denied.push(r), active: (n) => void active.push(n) },
      logger,
    });
    return { admission, capacity, leases, denied, active, logs };
  };
  const phone = build('phone', capPrefix, (tenantId, cfg) => resolveTenantLimits({ redis, tenantmapPrefix: tenantmap, tenantId, tenantCaps: cfg.caps, defaults: PHONE_DEFAULTS }));
  const browser = build('webrtc', webrtcCapacityPrefix(capPrefix), (_id, cfg) => browserCallLimits(cfg.webrtc, BROWSER_DEFAULTS));
  const seed = async (tenantId: string, did: string, extra: Record<string, unknown> = {}) => {
    await redis.set(`${tenantmap}:did:${did}`, tenantId);
    await redis.set(`tenantcfg:${tenantId}`, JSON.stringify({ contractVersion: 'v1', tenantId, dids: [did], ...extra }));
  };
  return { tenantmap, capPrefix, phone, browser, seed, stop: () => Promise.all([phone.leases.stop(), browser.leases.stop()]) };
}

function admitted(o: AdmissionOutcome): AdmittedCall {
  if (o.kind !== 'admitted') throw new Error(`expected admitted, got ${JSON.stringify(o)}`);
  return o.call;
}

describe('CallAdmission: phone line', () => {
  it('admits by dialled number with override key > tenant caps > env, keeps the lease alive here, and releases once', async () => {
    const l = lines();
    try {
      const tenantId = `acme-${uid()}`;
      await l.seed(tenantId, '+15550100001', { caps: { maxConcurrentCallsTenant: 3, maxCallsPerMinuteTenant: 7 } });
      await redis.set(tenantCapOverrideKeys(l.tenantmap, tenantId).concurrency, '2');
      const call = admitted(await l.phone.admission.admit('c1', { did: 'sip:+15550100001@sip.telnyx.com' }));
      expect(call).toMatchObject({ callId: 'c1', tenantId, did: '+15550100001', limits: { globalMax: 100, tenantMax: 2, tenantPerMinute: 7 }, alreadyHeld: false });
      expect(l.phone.leases.has('c1')).toBe(true);
      expect(l.phone.active).toEqual([1]);
      expect(await l.phone.capacity.usage(tenantId)).toEqual({ global: 1, tenant: 1, tenantLastMinute: 1 });

      await Promise.all([call.release(), call.release(), call.cancel()]);
      // Released (not cancelled): the admission stays in the rate window.
      expect(await l.phone.capacity.usage(tenantId)).toEqual({ global: 0, tenant: 0, tenantLastMinute: 1 });
      expect(l.phone.leases.has('c1')).toBe(false);
      expect(l.phone.active).toEqual([1, 0]);
    } finally {
      await l.stop();
    }
  });

  it('re-admitting the same call refreshes its slot without counting it again', async () => {
    const l = lines();
    try {
      const tenantId = `again-${uid()}`;
      await l.seed(tenantId, '+15550100002');
      admitted(await l.phone.admission.admit('c1', { did: '+15550100002' }));
      const second = admitted(await l.phone.admission.admit('c1', { did: '+15550100002' }));
      expect(second.alreadyHeld).toBe(true);
      expect(await l.phone.capacity.usage(tenantId)).toEqual({ global: 1, tenant: 1, tenantLastMinute: 1 });
      await second.release();
    } finally {
      await l.stop();
    }
  });

  it('tells an unknown number, a broken config and a Redis failure apart, and counts none of them as a capacity denial', async () => {
    const l = lines();
    try {
      expect(await l.phone.admission.admit('c1', { did: '+15550100099' })).toEqual({ kind: 'not_configured', did: '+15550100099' });
      expect(await l.phone.admission.admit('c2', { did: 'not a number' })).toEqual({ kind: 'not_configured' });
      await redis.set(`${l.tenantmap}:did:+15550100003`, 'broken');
      await redis.set('tenantcfg:broken', JSON.stringify({ contractVersion: 'v0' }));
      expect(await l.phone.admission.admit('c3', { did: '+15550100003' })).toMatchObject({ kind: 'invalid_config', tenantId: 'broken', problems: expect.arrayContaining([expect.stringContaining('contractVersion')]) });
      await redis.hset(`${l.tenantmap}:did:+15550100004`, 'wrong', 'type');
      expect(await l.phone.admission.admit('c4', { did: '+15550100004' })).toMatchObject({ kind: 'store_error', stage: 'tenant' });
      expect(l.phone.logs().find((x) => x.msg === 'tenant lookup failed')).toMatchObject({ level: 'error', callControlId: 'c4', line: 'phone' });
      expect(l.phone.denied).toEqual([]);
      expect(l.phone.leases.size).toBe(0);
    } finally {
      await l.stop();
    }
  });

  it('refuses at the cap with the reason, and turns a failing capacity script into store_error', async () => {
    const l = lines();
    try {
      const tenantId = `full-${uid()}`;
      await l.seed(tenantId, '+15550100005', { caps: { maxConcurrentCallsTenant: 1 } });
      const first = admitted(await l.phone.admission.admit('c1', { did: '+15550100005' }));
      expect(await l.phone.admission.admit('c2', { did: '+15550100005' })).toEqual({ kind: 'at_capacity', tenantId, reason: 'tenant_concurrency', limits: { globalMax: 100, tenantMax: 1, tenantPerMinute: 60 } });
      await first.release();

      const broken = `broken-${uid()}`;
      await l.seed(broken, '+15550100006');
      // The tenant's lease set is a string: the acquire script fails (WRONGTYPE).
      await redis.set(capacityKeys(l.capPrefix).tenantLeases(broken), 'not a zset');
      expect(await l.phone.admission.admit('c3', { did: '+15550100006' })).toMatchObject({ kind: 'store_error', stage: 'capacity', tenantId: broken });
      expect(l.phone.denied).toEqual(['tenant_concurrency', 'capacity_error']);
      expect(l.phone.leases.size).toBe(0);
    } finally {
      await l.stop();
    }
  });

  it('releases a slot admitted by another instance (hangup processed elsewhere)', async () => {
    const a = lines();
    try {
      const tenantId = `moved-${uid()}`;
      await a.seed(tenantId, '+15550100007');
      admitted(await a.phone.admission.admit('c1', { did: '+15550100007' }));
      // Another admission on the same key space, as a second instance has it.
      const other = new CallAdmission({
        line: 'phone',
        tenants: new TenantResolver(redis, a.tenantmap, 0),
        limitsFor: () => PHONE_DEFAULTS,
        capacity: a.phone.capacity,
        leases: { add: () => undefined, remove: () => false, size: 0 },
        leaseMs: LEASE_MS,
        metrics: { denied: () => undefined, active: () => undefined },
        logger: memoryLogger().logger,
      });
      await other.held('c1', tenantId).release();
      expect(await a.phone.capacity.usage(tenantId)).toMatchObject({ global: 0, tenant: 0 });
    } finally {
      await a.stop();
    }
  });
});

describe('CallAdmission: browser line', () => {
  it('admits by tenant id under the webrtc caps, in its own key space, and cancel gives back the per-minute admission', async () => {
    const l = lines();
    try {
      const tenantId = `shop-${uid()}`;
      await l.seed(tenantId, '+15550100008', { caps: { maxConcurrentCallsTenant: 1 }, webrtc: { maxConcurrentCalls: 2 } });
      const t = await l.browser.admission.resolveTenant({ tenantId });
      if (t.kind !== 'resolved') throw new Error(t.kind);
      const call = admitted(await l.browser.admission.acquire('webrtc-1', t.tenant));
      expect(call.limits).toEqual({ globalMax: 50, tenantMax: 2, tenantPerMinute: 20 });
      expect(await l.browser.capacity.usage(tenantId)).toEqual({ global: 1, tenant: 1, tenantLastMinute: 1 });
      // Nothing on the phone line.
      expect(await l.phone.capacity.usage(tenantId)).toEqual({ global: 0, tenant: 0, tenantLastMinute: 0 });
      await call.cancel();
      await call.release(); // no effect after cancel
      expect(await l.browser.capacity.usage(tenantId)).toEqual({ global: 0, tenant: 0, tenantLastMinute: 0 });
      expect(l.browser.active).toEqual([1, 0]);
    } finally {
      await l.stop();
    }
  });

  it('answers not_configured for a tenant id without a config, invalid_config for a broken one, store_error for a Redis failure', async () => {
    const l = lines();
    try {
      expect(await l.browser.admission.resolveTenant({ tenantId: `ghost-${uid()}` })).toMatchObject({ kind: 'not_configured' });
      await redis.set('tenantcfg:broken-shop', JSON.stringify({ contractVersion: 'v1', tenantId: 'someone-else' }));
      expect(await l.browser.admission.resolveTenant({ tenantId: 'broken-shop' })).toMatchObject({ kind: 'invalid_config', tenantId: 'broken-shop' });
      await redis.hset('tenantcfg:wrongtype-shop', 'x', 'y');
      expect(await l.browser.admission.resolveTenant({ tenantId: 'wrongtype-shop' })).toMatchObject({ kind: 'store_error', stage: 'tenant', tenantId: 'wrongtype-shop' });
    } finally {
      await l.stop();
    }
  });

  it('logs a failing release and lets the lease expire, without throwing', async () => {
    const l = lines();
    try {
      const tenantId = `flaky-${uid()}`;
      await l.seed(tenantId, '+15550100009');
      const t = await l.browser.admission.resolveTenant({ tenantId });
      if (t.kind !== 'resolved') throw new Error(t.kind);
      const call = admitted(await l.browser.admission.acquire('webrtc-2', t.tenant));
      const globalKey = capacityKeys(webrtcCapacityPrefix(l.capPrefix)).globalLeases;
      await redis.del(globalKey);
      await redis.set(globalKey, 'not a zset');
      await expect(call.release()).resolves.toBeUndefined();
      expect(l.browser.leases.has('webrtc-2')).toBe(false);
      expect(l.browser.logs().find((x) => x.msg === 'capacity release failed; the lease will expire')).toMatchObject({ callControlId: 'webrtc-2', op: 'release', line: 'webrtc' });
      await redis.del(globalKey);
    } finally {
      await l.stop();
    }
  });
});
