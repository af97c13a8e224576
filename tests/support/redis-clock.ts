/**
 * Redis's own clock, for tests of leases and windows that the capacity scripts time with Redis
 * `TIME`: a test waits until Redis's clock has passed a moment, instead of sleeping a guessed
 * length on ours (a starved test process wakes late; Redis is the clock that decides).
 */
import type { Redis } from 'ioredis';

export async function redisNowMs(redis: Redis): Promise<number> {
  const [s, us] = await redis.time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

/** Resolves once Redis's clock reads at least `atMs`; rejects if that takes over `timeoutMs` of ours. */
export async function untilRedisTime(redis: Redis, atMs: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = atMs - (await redisNowMs(redis));
    if (left <= 0) return;
    if (Date.now() > deadline) throw new Error(`Redis clock did not reach ${atMs} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, Math.min(left, 50)));
  }
}

/** A call's score in a capacity set, as the scripts stored it: a lease's expiry, an admission's time. */
export async function scoreOf(redis: Redis, key: string, callId: string): Promise<number | undefined> {
  const score = await redis.zscore(key, callId);
  return score === null ? undefined : Number(score);
}
