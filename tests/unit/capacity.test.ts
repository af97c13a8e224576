/** Pure parts of the capacity module: key layout, limit parsing, LeaseKeeper scheduling. */
import { capacityKeys, tenantCapOverrideKeys } from '../../src/lib/capacity/capacity-keys';
import { LeaseKeeper, type IntervalTimer } from '../../src/lib/capacity/lease-keeper';
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

/** A timer the test fires by hand. */
function manualTimer(): IntervalTimer & { fire(): void; ms?: number; cleared: boolean } {
  let fn: (() => void) | undefined;
  const t = {
    ms: undefined as number | undefined,
    cleared: false,
    setInterval(f: () => void, ms: number) {
      fn = f;
      t.ms = ms;
      return {} as NodeJS.Timeout;
    },
    clearInterval() {
      t.cleared = true;
    },
    fire() {
      fn?.();
    },
  };
  return t;
}

describe('LeaseKeeper', () => {
  const flush = () => new Promise((r) => setImmediate(r));

  it('refreshes every leaseMs/3 and forgets calls reported gone', async () => {
    const timer = manualTimer();
    const calls: LeaseEntry[][] = [];
    const capacity = { refresh: async (e: readonly LeaseEntry[]) => (calls.push([...e]), ['c1']) };
    const keeper = new LeaseKeeper({ capacity, leaseMs: 3000, logger: memoryLogger().logger, timer });
    expect(timer.ms).toBe(1000);
    keeper.add('c1', 'a');
    keeper.add('c2', 'b');
    timer.fire();
    await flush();
    expect(calls).toEqual([[{ callId: 'c1', tenantId: 'a' }, { callId: 'c2', tenantId: 'b' }]]);
    expect(keeper.size).toBe(1);
    await keeper.stop();
    expect(timer.cleared).toBe(true);
  });

  it('logs refresh errors, keeps the calls, and retries on the next tick', async () => {
    const timer = manualTimer();
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
    const keeper = new LeaseKeeper({ capacity, leaseMs: 300, logger, timer });
    keeper.add('c1', 'a');
    timer.fire();
    await flush();
    expect(keeper.size).toBe(1);
    expect(lines().find((l) => l.level === 'error')).toMatchObject({ err: 'redis down' });
    fail = false;
    timer.fire();
    await flush();
    expect(attempts).toBe(2);
    await keeper.stop();
  });

  it('does not overlap rounds, and does not drop a call re-added during a round', async () => {
    const timer = manualTimer();
    let finish: (gone: string[]) => void = () => undefined;
    let attempts = 0;
    const capacity = {
      refresh: () => {
        attempts++;
        return new Promise<string[]>((r) => (finish = r));
      },
    };
    const keeper = new LeaseKeeper({ capacity, leaseMs: 300, logger: memoryLogger().logger, timer });
    keeper.add('c1', 'a');
    timer.fire();
    timer.fire();
    expect(attempts).toBe(1);
    keeper.remove('c1');
    keeper.add('c1', 'a'); // a new acquire of the same call while the old round is in flight
    finish(['c1']);
    await flush();
    expect(keeper.has('c1')).toBe(true);
    await keeper.stop();
  });

  it('skips rounds when empty or stopped', async () => {
    const timer = manualTimer();
    const refresh = jest.fn(async () => []);
    const keeper = new LeaseKeeper({ capacity: { refresh }, leaseMs: 300, logger: memoryLogger().logger, timer });
    timer.fire();
    keeper.add('c1', 'a');
    await keeper.stop();
    timer.fire();
    await keeper.refreshNow();
    expect(refresh).not.toHaveBeenCalled();
  });
});
