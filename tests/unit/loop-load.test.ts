import { LoopLoad } from '../../src/lib/loop-load';
import { ManualTime } from '../../src/lib/manual-timers';

/** The event loop really idle for `ms` (waiting on a timer: that wait is what is measured). */
const idle = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The event loop really busy for `ms`: 30 ms blocks with barely a pause between them. */
async function busy(ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const end = Math.min(until, Date.now() + 30);
    while (Date.now() < end);
    await new Promise((r) => setImmediate(r));
  }
}

it('reports how busy the event loop was over the last interval, sampled by its timer', async () => {
  // The sampling timer runs on a fake clock, so each sample spans exactly the stretch under test.
  const time = new ManualTime();
  const load = new LoopLoad(100, time);
  try {
    expect(time.dueTimes).toEqual([100]);
    await idle(150);
    time.advance(100);
    expect(load.utilization).toBeLessThan(0.5);
    await busy(300);
    expect(load.utilization).toBeLessThan(0.5); // not sampled yet: the last interval still reads
    time.advance(100);
    expect(load.utilization).toBeGreaterThan(0.7);
    await idle(150);
    time.advance(100);
    expect(load.utilization).toBeLessThan(0.5);
  } finally {
    load.close();
  }
  expect(time.pendingTimers).toBe(0);
});
