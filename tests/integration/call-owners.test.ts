/**
 * Owner leases and instance heartbeats on a real Redis (the Lua scripts run on Redis' clock).
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { CallOwners, InstanceRegistry } from '../../src/lib/calls/call-owners';
import { closeRedis, createRedis } from '../../src/lib/redis';
import { testRedisUrl } from '../support/test-config';

let redis: Redis;
let prefix: string;
beforeAll(() => {
  redis = createRedis(testRedisUrl(), 'request');
});
afterAll(async () => {
  await closeRedis(redis);
});
beforeEach(() => {
  prefix = `own${randomBytes(4).toString('hex')}`;
});

/** Waits until Redis' clock has passed `ms` from now (a lease that short has lapsed by then). */
async function lapse(ms: number): Promise<void> {
  const [s, us] = await redis.time();
  const until = Number(s) * 1000 + Number(us) / 1000 + ms;
  for (;;) {
    const [s2, us2] = await redis.time();
    if (Number(s2) * 1000 + Number(us2) / 1000 > until) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('CallOwners', () => {
  it('take returns the previous owner; refresh keeps only what the instance still owns', async () => {
    const a = new CallOwners(redis, prefix, 'A', 60_000);
    const b = new CallOwners(redis, prefix, 'B', 60_000);
    expect(await a.take('c1')).toBe('');
    expect(await a.take('c2')).toBe('');
    expect(await b.take('c2')).toBe('A'); // the stream moved to B
    expect(await a.refresh(['c1', 'c2'])).toEqual(['c2']);
    expect(await b.refresh(['c2'])).toEqual([]);
  });

  it('a lapsed lease is claimed by exactly one sweeper, and not again until the claim lapses', async () => {
    const a = new CallOwners(redis, prefix, 'A', 50);
    const b = new CallOwners(redis, prefix, 'B', 60_000);
    const c = new CallOwners(redis, prefix, 'C', 60_000);
    await a.take('c1');
    await a.take('c2');
    expect(await b.claimExpired(60_000, 10)).toEqual([]); // still alive
    await lapse(60);
    const [byB, byC] = await Promise.all([b.claimExpired(200, 10), c.claimExpired(200, 10)]);
    const claimed = [...byB, ...byC].map((x) => x.callControlId).sort();
    expect(claimed).toEqual(['c1', 'c2']);
    expect([...byB, ...byC].every((x) => x.previousOwner === 'A')).toBe(true);
    expect(await c.claimExpired(200, 10)).toEqual([]);
    // The crashed owner cannot refresh what was claimed.
    expect((await a.refresh(['c1', 'c2'])).sort()).toEqual(['c1', 'c2']);
    await lapse(210);
    const again = await c.claimExpired(200, 10);
    expect(again.map((x) => x.previousOwner)).toEqual(expect.arrayContaining([expect.stringMatching(/^~[BC]$/)]));
  });

  it("an instance's own claim on its call (lease lapsed during a Redis outage) turns back into ownership on refresh", async () => {
    const a = new CallOwners(redis, prefix, 'A', 50);
    await a.take('c1');
    await lapse(60);
    expect((await a.claimExpired(60_000, 10)).map((x) => x.previousOwner)).toEqual(['A']);
    expect(await a.refresh(['c1'])).toEqual([]);
    const b = new CallOwners(redis, prefix, 'B', 60_000);
    expect(await b.claimExpired(60_000, 10)).toEqual([]); // refreshed: not lapsed
  });

  it('claims at most `limit` calls per sweep', async () => {
    const a = new CallOwners(redis, prefix, 'A', 20);
    for (let i = 0; i < 5; i += 1) await a.take(`c${i}`);
    await lapse(30);
    const b = new CallOwners(redis, prefix, 'B', 60_000);
    expect(await b.claimExpired(60_000, 2)).toHaveLength(2);
    expect(await b.claimExpired(60_000, 10)).toHaveLength(3);
  });

  it('release by a stale instance leaves the new owner alone; release without owner always works', async () => {
    const a = new CallOwners(redis, prefix, 'A', 60_000);
    const b = new CallOwners(redis, prefix, 'B', 60_000);
    await a.take('c1');
    await b.take('c1');
    expect(await a.release('c1')).toBe(false);
    expect(await b.refresh(['c1'])).toEqual([]);
    expect(await a.release('c1', false)).toBe(true);
    expect(await b.refresh(['c1'])).toEqual(['c1']);
  });
});

describe('InstanceRegistry', () => {
  it('others() lists instances beating within the window, never itself; leave() drops out at once', async () => {
    let now = 1_000_000;
    const clock = () => now;
    const a = new InstanceRegistry(redis, prefix, 'A', 3000, clock);
    const b = new InstanceRegistry(redis, prefix, 'B', 3000, clock);
    await a.beat();
    await b.beat();
    expect(await a.others()).toEqual(['B']);
    now += 2000;
    await a.beat();
    now += 1500; // B's last beat is 3.5 s old
    expect(await a.others()).toEqual([]);
    expect(await b.others()).toEqual(['A']);
    await a.leave();
    expect(await b.others()).toEqual([]);
  });
});
