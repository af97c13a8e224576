import { randomBytes } from 'node:crypto';
import { closeRedis, createRedis } from '../../src/lib/redis';
import { TenantResolver } from '../../src/lib/tenants/tenant-resolver';
import { testRedisUrl } from '../support/test-config';

describe('TenantResolver (real Redis)', () => {
  const redis = createRedis(testRedisUrl(), 'request');
  const prefix = `t${randomBytes(4).toString('hex')}:tenantmap`;
  const tenantId = `tenant-${randomBytes(4).toString('hex')}`;
  const doc = (greeting: string) => JSON.stringify({ contractVersion: 'v1', tenantId, dids: ['+15551230000'], greeting });
  afterAll(() => closeRedis(redis));

  it('resolves DID → tenant → config and sees a config change once the cache TTL passes', async () => {
    let now = 1_000_000;
    const resolver = new TenantResolver(redis, prefix, 5000, () => now);
    await redis.set(`${prefix}:did:+15551230000`, tenantId);
    await redis.set(`tenantcfg:${tenantId}`, doc('v1 greeting'));
    const first = await resolver.resolve('sip:+15551230000@sip.telnyx.com');
    expect(first).toMatchObject({ kind: 'ok', tenantId, did: '+15551230000' });
    await redis.set(`tenantcfg:${tenantId}`, doc('v2 greeting'));
    now += 4000;
    const cached = await resolver.resolve('+15551230000');
    expect(cached.kind === 'ok' && cached.config.greeting).toBe('v1 greeting');
    now += 1001;
    const fresh = await resolver.resolve('+15551230000');
    expect(fresh.kind === 'ok' && fresh.config.greeting).toBe('v2 greeting');
  });

  it('distinguishes not configured, invalid config and Redis errors', async () => {
    const resolver = new TenantResolver(redis, prefix, 0);
    expect(await resolver.resolve('+15559990000')).toEqual({ kind: 'not_configured', did: '+15559990000' });
    await redis.set(`${prefix}:did:+15559990001`, 'ghost-tenant');
    expect(await resolver.resolve('+15559990001')).toMatchObject({ kind: 'invalid_config', problems: ['tenant config missing'] });
    await redis.hset(`${prefix}:did:+15559990002`, 'x', 'y');
    await expect(resolver.resolve('+15559990002')).rejects.toMatchObject({ code: 'tenant_lookup_failed', retryable: true });
  });

  it('resolves a tenant id (browser calls) through the same cache: one parse serves both lookups, a change shows after the TTL', async () => {
    let now = 2_000_000;
    const resolver = new TenantResolver(redis, prefix, 5000, () => now);
    const did = '+15551230003';
    await redis.set(`${prefix}:did:${did}`, tenantId);
    await redis.set(`tenantcfg:${tenantId}`, doc('by id v1'));
    const byId = await resolver.byTenantId(tenantId);
    expect(byId).toMatchObject({ kind: 'ok', tenantId });
    // The config cached by the tenant-id lookup serves the DID lookup too (same object, no second parse).
    await redis.set(`tenantcfg:${tenantId}`, doc('by id v2'));
    const byDid = await resolver.resolve(did);
    expect(byDid.kind === 'ok' && byId.kind === 'ok' && byDid.config).toBe(byId.kind === 'ok' && byId.config);
    now += 5001;
    const fresh = await resolver.byTenantId(tenantId);
    expect(fresh.kind === 'ok' && fresh.config.greeting).toBe('by id v2');
  });

  it('tells a missing tenant, an invalid config and a Redis error apart by tenant id', async () => {
    const resolver = new TenantResolver(redis, prefix, 0);
    expect(await resolver.byTenantId('no-such-tenant-xyz')).toEqual({ kind: 'not_configured', tenantId: 'no-such-tenant-xyz' });
    await redis.set('tenantcfg:broken-by-id', JSON.stringify({ contractVersion: 'v0', tenantId: 'broken-by-id' }));
    expect(await resolver.byTenantId('broken-by-id')).toMatchObject({ kind: 'invalid_config', tenantId: 'broken-by-id', problems: [expect.stringMatching(/contractVersion/)] });
    await redis.hset('tenantcfg:wrongtype-by-id', 'x', 'y');
    await expect(resolver.byTenantId('wrongtype-by-id')).rejects.toMatchObject({ code: 'tenant_lookup_failed', retryable: true });
  });

  it('checks URL fields of a config found by tenant id against the URL policy', async () => {
    const resolver = new TenantResolver(redis, prefix, 0);
    await redis.set('tenantcfg:leaky-by-id', JSON.stringify({ contractVersion: 'v1', tenantId: 'leaky-by-id', stt: { mode: 'whisper_http', whisperUrl: 'file:///etc/passwd' } }));
    expect(await resolver.byTenantId('leaky-by-id')).toMatchObject({ kind: 'invalid_config', problems: [expect.stringContaining('stt.whisperUrl')] });
  });
});
