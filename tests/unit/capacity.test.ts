/** Pure parts of the capacity module: key layout, limit parsing, LeaseKeeper scheduling. */
import { capacityKeys, tenantCapOverrideKeys } from '../../src/lib/capacity/capacity-keys';
import { LeaseKeeper } from '../../src/lib/capacity/lease-keeper';
import { ManualTime } from '../../src/lib/manual-timers';
import { pickLimit, positiveIntOrUndefined } from '../../src/lib/capacity/tenant-limits';
import type { LeaseEntry } from '../../src/lib/capacity/types';
import { memoryLogger } from '../support/test-config';

describe('capacity keys', () => {
  it('builds every key from the prefix', () => {
    const k = capacityKeys('{cap}');
    expect(k.globalLeases).toBe('{cap}:global:leases');
    expect(k.tenantLeases('t1')).toBe('{cap}:tenant:t1:leases');
    expect(k.tenantRate('t1')).toBe('{cap}:tenant:t1:rate');
    expect(tenantCapOverrideKeys('tm', 't1')).toEqual({ concurrency: 'tm:tenant:t1:cap:concurrency', rpm: 'tm:tenant:t1:cap:rpm' });
  });
});

describe('limit parsing', () => {
  it.each([
    ['5', 5],
    [' 12 ', 12],
    [7, 7],
    ['0', undefined],
    [0, undefined],
    ['-3', undefined],
    ['2.5', undefined],
    [2.5, undefined],
    ['abc', undefined],
    ['', undefined],
    [null, undefined],
    [undefined, undefined],
    ['99999999999999999999', undefined],
  ])('%p -> %p', (input, want) => {
    expect(positiveIntOrUndefined(input)).toBe(want);
  });

  it('takes the first valid candidate, else the fallback', () => {
    expect(pickLimit(['4', 3], 10)).toBe(4);
    expect(pickLimit(['nope', 3], 10)).toBe(3);
    expect(pickLimit([null, undefined], 10)).toBe(10);
  });
});

describe('LeaseKeeper', () => {
  const flush = () => new Promise((r) => setImmediate(r));

  it('refreshes every leaseMs/3 and forgets calls reported gone', async () => {
    const time = new ManualTime();
    const calls: LeaseEntry[][] = [];
    const capacity = { refresh: async (e: readonly LeaseEntry[]) => (calls.push([...e]), ['c1']) };
    const keeper = new LeaseKeeper({ capacity, leaseMs: 3000, logger: memoryLogger().logger, timers: time });
    expect(time.dueTimes).toEqual([1000]);
    keeper.add('c1', 'a');
    keeper.add('c2', 'b');
    time.advance(1000);
    await flush();
    expect(calls).toEqual([[{ callId: 'c1', tenantId: 'a' }, { callId: 'c2', tenantId: 'b' }]]);
    expect(keeper.size).toBe(1);
    await keeper.stop();
    expect(time.pendingTimers).toBe(0);
  });

  it('logs refresh errors, keeps the calls, and retries on the next tick', async () => {
    const time = new ManualTime();
    let fail = true;
    let attempts = 0;
    const capacity = {
      refresh: async () => {
        attempts++;
        if (fail) throw new Error('redis down');
        return [];
      },
    };
    const { logger, lines } = memoryLogger();
    const keeper = new LeaseKeeper({ capacity, leaseMs: 300, logger, timers: time });
    keeper.add('c1', 'a');
    time.advance(100);
    await flush();
    expect(keeper.size).toBe(1);
    expect(lines().find((l) => l.level === 'error')).toMatchObject({ err: 'redis down' });
    fail = false;
    time.advance(100);
    await flush();
    expect(attempts).toBe(2);
    await keeper.stop();
  });

  it('does not overlap rounds, and does not drop a call re-added during a round', async () => {
    const time = new ManualTime();
    let finish: (gone: string[]) => void = () => undefined;
    let attempts = 0;
    const capacity = {
      refresh: () => {
        attempts++;
        return new Promise<string[]>((r) => (finish = r));
      },
    };
    const keeper = new LeaseKeeper({ capacity, leaseMs: 300, logger: memoryLogger().logger, timers: time });
    keeper.add('c1', 'a');
    time.advance(100);
    time.advance(100);
    expect(attempts).toBe(1);
    keeper.remove('c1');
    keeper.add('c1', 'a'); // a new acquire of the same call while the old round is in flight
    finish(['c1']);
    await flush();
    expect(keeper.has('c1')).toBe(true);
    await keeper.stop();
  });

  it('skips rounds when empty or stopped', async () => {
    const time = new ManualTime();
    const refresh = jest.fn(async () => []);
    const keeper = new LeaseKeeper({ capacity: { refresh }, leaseMs: 300, logger: memoryLogger().logger, timers: time });
    time.advance(100);
    keeper.add('c1', 'a');
    await keeper.stop();
    time.advance(100);
    await keeper.refreshNow();
    expect(refresh).not.toHaveBeenCalled();
  });
});
