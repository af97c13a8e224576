/** CallOrder's bounded wait for a call's predecessor job, against the real test Redis, on a fake clock. */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ManualTime } from '../../src/lib/manual-timers';
import { CallOrder } from '../../src/lib/ordering/call-order';
import { closeRedis, createRedis } from '../../src/lib/redis';
import { stateKeys } from '../../src/lib/state-keys';
import { testRedisUrl } from '../support/test-config';

let redis: Redis;
beforeAll(() => {
  redis = createRedis(testRedisUrl(), 'request');
});
afterAll(async () => {
  await closeRedis(redis);
});

function order() {
  const time = new ManualTime();
  const o = new CallOrder(redis, stateKeys(`t${randomBytes(4).toString('hex')}`), { dedupeTtlSec: 60, counterTtlSec: 60, timers: time });
  return { time, o };
}

/** Settles `p`: lets the event loop turn (Redis replies) and, whenever the wait sleeps, wakes it at its due time. */
async function drive<T>(p: Promise<T>, time: ManualTime, maxTurns = 10_000): Promise<T> {
  let settled = false;
  void p.finally(() => (settled = true)).catch(() => undefined);
  for (let i = 0; i < maxTurns && !settled; i += 1) {
    await new Promise((r) => setImmediate(r));
    const due = time.dueTimes;
    if (!settled && due.length > 0) time.advance(Math.min(...due) - time.now());
  }
  return p;
}

describe('CallOrder.waitTurn', () => {
  it('runs at once when the predecessor is done, arming no timer', async () => {
    const { time, o } = order();
    expect(await o.next('ev', 'c1')).toBe(1);
    expect(await o.next('ev', 'c1')).toBe(2);
    await o.complete('ev', 'c1', 1);
    expect(await o.waitTurn('ev', 'c1', 2, 1000)).toBe(true);
    expect(time.pendingTimers).toBe(0);
  });

  it('waits for the predecessor, backing off on its timers, and runs once it completes', async () => {
    const { time, o } = order();
    const turn = o.waitTurn('cmd', 'c1', 2, 60_000);
    await redis.ping(); // sent after the first poll, so that poll has been answered: not done yet
    expect(time.dueTimes).toEqual([2]); // the first backoff: 2 ms
    time.advance(2);
    await new Promise((r) => setImmediate(r)); // the woken wait sends its second poll…
    await redis.ping(); // …and it has been answered
    expect(time.dueTimes).toEqual([2 + 4]);
    await o.complete('cmd', 'c1', 1);
    expect(await drive(turn, time)).toBe(true);
    expect(time.now()).toBe(2 + 4); // woken by the third poll, no further wait
  });

  it('gives up after maxWaitMs of its clock when the predecessor is lost, then lets the job run', async () => {
    const { time, o } = order();
    const turn = o.waitTurn('ev', 'c1', 3, 500);
    expect(await drive(turn, time)).toBe(false);
    // Backoff 2, 4, 8, 16, 32, then 50 ms each: the first poll at or past 500 ms is at 512.
    expect(time.now()).toBe(512);
    expect(time.pendingTimers).toBe(0);
  });
});
