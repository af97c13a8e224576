import { ManualTime } from '../../src/lib/manual-timers';
import { PlayoutScheduler } from '../../src/media/playout/pacer';
import { setup, tone } from './playout-harness';

describe('StreamPlayout pacing', () => {
  it('sends maxAheadMs at once, then exactly one 20 ms frame per 20 ms of real time', () => {
    const { p, time, sentMs } = setup();
    p.enqueue(tone('a', 10_000));
    expect(p.stats.framesSent).toBe(10); // 200 ms lead, sent without waiting for a tick
    for (let t = 20; t <= 5000; t += 20) {
      time.advance(20);
      expect(p.stats.framesSent).toBe(10 + t / 20);
      expect(sentMs() - t).toBe(200); // ahead of real time: exactly maxAheadMs, never more
    }
    expect(p.stats).toMatchObject({ messagesSent: 260, bytesSent: 260 * 160, lateTicks: 0, underruns: 0 });
  });

  it('with 60 ms messages keeps 140..200 ms queued at Telnyx', () => {
    const { p, time, sentMs, wire } = setup({ messageMs: 60 });
    p.enqueue(tone('a', 3000));
    for (let t = 0; t <= 2000; t += 20) {
      const ahead = sentMs() - t;
      expect(ahead).toBeGreaterThanOrEqual(140);
      expect(ahead).toBeLessThanOrEqual(200);
      time.advance(20);
    }
    for (const w of wire()) if (w.event === 'media') expect(w.bytes.length).toBe(480);
  });

  it('a late tick catches up in one go without exceeding maxAheadMs', () => {
    const { p, time, sentMs } = setup();
    p.enqueue(tone('a', 5000));
    time.advance(400);
    expect(sentMs()).toBe(600);
    time.stall(130); // due at 1420, fires at 1530: 110 ms late
    // Ticks now land off the 20 ms grid of the audio, so the lead is 180..200 ms, never more.
    expect(sentMs() - 530).toBe(190);
    expect(p.stats).toMatchObject({ lateTicks: 1, maxLagMs: 110, underruns: 0 });
    time.advance(1000);
    expect(sentMs() - 1530).toBeLessThanOrEqual(200);
    expect(sentMs() - 1530).toBeGreaterThan(180);
  });

  it('a stall longer than the lead is an underrun; the refill is still capped at maxAheadMs', () => {
    const { p, time, sentMs } = setup();
    p.enqueue(tone('a', 5000));
    time.advance(100); // 300 ms sent
    time.stall(500); // Telnyx ran dry at 300
    expect(sentMs()).toBe(300 + 200);
    expect(p.stats.underruns).toBe(1);
  });

  it('sends nothing while the queue is empty mid-turn (Telnyx plays silence), resumes at once', () => {
    const { p, time, summary } = setup();
    p.enqueue(tone('a', 100));
    time.advance(500);
    const before = summary().length;
    time.advance(500);
    expect(summary()).toHaveLength(before);
    p.enqueue(tone('b', 40));
    expect(summary().slice(before)).toEqual(['media 20', 'media 20', 'mark b']);
  });

  it('many concurrent playouts share one ticker and each stays paced', () => {
    const time = new ManualTime(0);
    const clock = new PlayoutScheduler(time);
    const calls = Array.from({ length: 200 }, () => setup({}, time, clock));
    const starts = calls.map((c, i) => {
      if (i % 10 === 0) time.advance(1); // staggered starts over 20 ms
      c.p.enqueue(tone(`s${i}`, 2000));
      return time.now();
    });
    expect(time.pendingTimers).toBe(1);
    expect(clock.size).toBe(200);
    time.advance(981); // to 1001, a tick of the shared grid (first attach at 1)
    calls.forEach((c, i) => {
      const due = 10 + (time.now() - starts[i]!) / 20; // lead + elapsed frames
      expect(c.p.stats.framesSent).toBeLessThanOrEqual(due); // never more than maxAheadMs ahead
      expect(c.p.stats.framesSent).toBeGreaterThan(due - 1); // off-grid starts lag < one frame
    });
    time.advance(3000); // all sent; marks never echoed → fallback idle
    for (const c of calls) expect(c.events.at(-1)).toBe('idle');
    expect(clock.size).toBe(0);
    expect(time.pendingTimers).toBe(0);
  });

  it('leaves the ticker when idle and rejoins on enqueue', () => {
    const { p, time, clock } = setup();
    p.enqueue(tone('a', 40));
    expect(clock.size).toBe(1);
    p.onMark('a');
    expect(p.state).toBe('idle');
    expect(clock.size).toBe(0);
    expect(time.pendingTimers).toBe(0);
    p.enqueue(tone('b', 40));
    expect(clock.size).toBe(1);
  });
});
