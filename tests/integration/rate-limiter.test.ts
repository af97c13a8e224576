/** The sliding-window rate limiter (per-IP WebRTC offers) against the real test Redis. */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { closeRedis, createRedis } from '../../src/lib/redis';
import { RateLimiter } from '../../src/lib/rate-limit/rate-limiter';
import { testRedisUrl } from '../support/test-config';

describe('RateLimiter (real Redis)', () => {
  let redis: Redis;
  const prefix = () => `t${randomBytes(4).toString('hex')}:rl`;
  beforeAll(() => {
    redis = createRedis(testRedisUrl(), 'request');
  });
  afterAll(() => closeRedis(redis));

  it('admits `limit` hits per subject in the window, then refuses with the wait until the oldest leaves', async () => {
    const rl = new RateLimiter({ redis, prefix: prefix(), limit: 3, windowMs: 60_000 });
    expect(await rl.hit('1.2.3.4')).toEqual({ ok: true, remaining: 2 });
    expect(await rl.hit('1.2.3.4')).toEqual({ ok: true, remaining: 1 });
    expect(await rl.hit('1.2.3.4')).toEqual({ ok: true, remaining: 0 });
    const refused = await rl.hit('1.2.3.4');
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.retryAfterMs).toBeGreaterThan(55_000);
    expect((await rl.hit('5.6.7.8')).ok).toBe(true);
  });

  it('stores only admitted hits (a flood cannot grow the key) and expires the key with the window', async () => {
    const rl = new RateLimiter({ redis, prefix: prefix(), limit: 5, windowMs: 60_000 });
    await Promise.all(Array.from({ length: 200 }, () => rl.hit('flood')));
    expect(await redis.zcard(rl.key('flood'))).toBe(5);
    const ttl = await redis.pttl(rl.key('flood'));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('frees room as hits leave the sliding window', async () => {
    const rl = new RateLimiter({ redis, prefix: prefix(), limit: 1, windowMs: 200 });
    expect((await rl.hit('x')).ok).toBe(true);
    const refused = await rl.hit('x');
    expect(refused.ok).toBe(false);
    await new Promise((r) => setTimeout(r, refused.ok ? 0 : refused.retryAfterMs + 5));
    expect((await rl.hit('x')).ok).toBe(true);
  });

  it('turns a Redis failure into a retryable 503 error', async () => {
    const dead = createRedis('redis://127.0.0.1:1', 'request');
    try {
      const rl = new RateLimiter({ redis: dead, prefix: prefix(), limit: 1, windowMs: 1000 });
      await expect(rl.hit('x')).rejects.toMatchObject({ code: 'rate_limit_error', status: 503, retryable: true });
    } finally {
      await closeRedis(dead);
    }
  });
});
