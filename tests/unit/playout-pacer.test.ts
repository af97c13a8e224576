import { ManualTime } from '../../src/lib/manual-timers';
import { PlayoutScheduler, type TickListener } from '../../src/media/playout/pacer';

function listener(log: number[] = []): TickListener & { log: number[]; lags: number[] } {
  const lags: number[] = [];
  return { log, lags, onTick: (now, lag) => (log.push(now), lags.push(lag)) };
}

describe('PlayoutScheduler', () => {
  it('aims every tick at start + n × 20 ms, so timer lateness never accumulates', () => {
    const time = new ManualTime(1000);
    const s = new PlayoutScheduler(time);
    const l = listener();
    s.attach(l);
    expect(time.dueTimes).toEqual([1020]);
    // Every timer fires 3 ms late (a busy loop): the next one still aims at the grid, not at +23.
    for (let n = 1; n <= 500; n += 1) {
      time.advance(1000 + n * 20 - 1 - time.now()); // 1 ms before it is due…
      time.stall(4); // …then it fires 3 ms late
      expect(time.dueTimes).toEqual([1000 + (n + 1) * 20]);
    }
    expect(l.log).toHaveLength(500);
    expect(s.stats).toMatchObject({ ticks: 500, lateTicks: 0, maxLagMs: 3 });
  });

  it('a stalled loop gets one catch-up tick (not a burst of missed ones), counted as late', () => {
    const time = new ManualTime(0);
    const s = new PlayoutScheduler(time);
    const l = listener();
    s.attach(l);
    time.advance(40); // ticks at 20, 40
    time.stall(75); // due at 60, fires at 115
    expect(l.log).toEqual([20, 40, 115]);
    expect(l.lags[2]).toBe(55);
    expect(s.stats).toMatchObject({ ticks: 3, lateTicks: 1, skippedTicks: 2, maxLagMs: 55 });
    expect(time.dueTimes).toEqual([120]); // back on the grid
    time.advance(5);
    expect(l.log).toEqual([20, 40, 115, 120]);
  });

  it('runs a timer only while someone is attached, one timer however many listeners', () => {
    const time = new ManualTime(0);
    const s = new PlayoutScheduler(time);
    const ls = Array.from({ length: 300 }, () => listener());
    for (const l of ls) s.attach(l);
    s.attach(ls[0]!); // idempotent
    expect(s.size).toBe(300);
    expect(time.pendingTimers).toBe(1);
    time.advance(100);
    for (const l of ls) expect(l.log).toEqual([20, 40, 60, 80, 100]);
    for (const l of ls) s.detach(l);
    expect(time.pendingTimers).toBe(0);
    expect(s.running).toBe(false);
    time.advance(7);
    s.attach(ls[0]!); // restarts on a new grid
    expect(time.dueTimes).toEqual([127]);
  });

  it('a listener detaching itself or others mid-tick is safe', () => {
    const time = new ManualTime(0);
    const s = new PlayoutScheduler(time);
    const b = listener();
    const a: TickListener = { onTick: () => (s.detach(a), s.detach(b)) };
    const c = listener();
    s.attach(a);
    s.attach(b);
    s.attach(c);
    time.advance(40);
    expect(b.log).toEqual([]);
    expect(c.log).toEqual([20, 40]);
  });

  it('a throwing listener is logged and does not stop the others', () => {
    const time = new ManualTime(0);
    const errors: unknown[] = [];
    const s = new PlayoutScheduler(time, 20, { error: (obj: unknown) => errors.push(obj) });
    const ok = listener();
    s.attach({ onTick: () => { throw new Error('boom'); } });
    s.attach(ok);
    time.advance(60);
    expect(ok.log).toEqual([20, 40, 60]);
    expect(errors).toHaveLength(3);
  });
});
