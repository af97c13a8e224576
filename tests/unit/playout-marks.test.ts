import { PlayoutClosedError, PlayoutQueueFullError, PlayoutUsageError } from '../../src/media/playout/errors';
import { createDecoder } from '../../src/media/audio/codecs';
import { setup, tone } from './playout-harness';

describe('StreamPlayout segments and marks', () => {
  it('plays segments strictly in order, a mark right after each one’s last audio', () => {
    const { p, time, wire, summary } = setup({ messageMs: 40 });
    p.enqueue(tone('a', 100, 1000));
    p.enqueue(tone('b', 50, -1000)); // 50 ms → padded to 60 (3 frames)
    p.enqueue(tone('c', 40, 3000));
    time.advance(1000);
    expect(summary()).toEqual(['media 40', 'media 40', 'media 20', 'mark a', 'media 40', 'media 20', 'mark b', 'media 40', 'mark c']);
    const dec = createDecoder('PCMU');
    const levels = wire().flatMap((w) => (w.event === 'media' ? [Math.round(dec.decode(w.bytes)![0]! / 1000)] : []));
    expect(levels).toEqual([1, 1, 1, -1, -1, 3]);
  });

  it('onMark → segmentDone in order, idle after the last; waitForPlayout resolves then', async () => {
    const { p, time, events } = setup();
    p.enqueue(tone('a', 100));
    p.enqueue(tone('b', 100));
    let resolved = false;
    void p.waitForPlayout().then(() => (resolved = true));
    time.advance(200);
    expect(events).toEqual(['started a', 'started b']);
    expect(p.onMark('a')).toBe(true);
    expect(events.at(-1)).toBe('done a');
    expect(p.onMark('nope')).toBe(false);
    expect(p.onMark('b')).toBe(true);
    expect(events).toEqual(['started a', 'started b', 'done a', 'done b', 'idle']);
    await Promise.resolve();
    expect(resolved).toBe(true);
    await expect(p.waitForPlayout()).resolves.toBeUndefined();
  });

  it('a later mark also completes earlier unconfirmed segments', () => {
    const { p, time, events } = setup();
    p.enqueue(tone('a', 40));
    p.enqueue(tone('b', 40));
    time.advance(100);
    p.onMark('b');
    expect(events).toEqual(['started a', 'started b', 'done a', 'done b', 'idle']);
  });

  it('marks that never come back: done (unconfirmed) and idle at play end + markGraceMs', () => {
    const { p, time, events } = setup({ markGraceMs: 500 });
    p.enqueue(tone('a', 300)); // plays 1000..1300
    time.advance(799);
    expect(events).toEqual(['started a']);
    time.advance(1); // 1800 = 1300 + 500
    expect(events).toEqual(['started a', 'done a (timeout)', 'idle']);
    expect(p.onMark('a')).toBe(false); // a straggler is ignored
  });

  it('empty and odd-length segments: padded to whole frames, still marked', () => {
    const { p, time, summary, events } = setup();
    p.enqueue({ id: 'odd', samples: new Int16Array(170), sampleRate: 8000 });
    p.enqueue({ id: 'empty', samples: new Int16Array(0), sampleRate: 8000 });
    time.advance(100);
    expect(summary()).toEqual(['media 20', 'media 20', 'mark odd', 'mark empty']);
    expect(events).toEqual(['started odd', 'started empty']);
  });
});

describe('StreamPlayout.clear (barge-in)', () => {
  it('stops at once, drops the queue, sends one clear, reports what was heard', () => {
    const { p, time, summary, events, clock } = setup();
    p.enqueue(tone('a', 100));
    p.enqueue(tone('b', 1000));
    p.enqueue(tone('c', 1000));
    time.advance(250); // ticks to 1240: 200 + 240 ms sent; Telnyx has played 250
    const sentBefore = summary().length;
    const r = p.clear();
    expect(r.clearSent).toBe(true);
    expect(r.segments).toEqual([
      { id: 'a', totalMs: 100, sentMs: 100, playedMs: 100, fraction: 1 },
      { id: 'b', totalMs: 1000, sentMs: 340, playedMs: 150, fraction: 0.15 },
      { id: 'c', totalMs: 1000, sentMs: 0, playedMs: 0, fraction: 0 },
    ]);
    expect(summary().slice(sentBefore)).toEqual(['clear']);
    expect(p.clear()).toEqual({ clearSent: false, segments: [] }); // once
    time.advance(1000);
    expect(summary().slice(sentBefore)).toEqual(['clear']); // nothing more sent
    expect(p.onMark('a')).toBe(false); // Telnyx echoes cleared marks: ignored
    expect(events).toEqual(['started a', 'started b']);
    expect(p.state).toBe('idle');
    expect(p.queuedMs).toBe(0);
    expect(clock.size).toBe(0);
  });

  it('right after enqueue nothing has been heard yet; waitForPlayout resolves on clear', async () => {
    const { p, time } = setup();
    time.advance(5);
    p.enqueue(tone('a', 500));
    const waiting = p.waitForPlayout();
    const r = p.clear();
    expect(r.segments).toEqual([{ id: 'a', totalMs: 500, sentMs: 200, playedMs: 0, fraction: 0 }]);
    await expect(waiting).resolves.toBeUndefined();
  });

  it('the next turn starts immediately after a clear', () => {
    const { p, time, summary } = setup();
    p.enqueue(tone('a', 1000));
    time.advance(100);
    p.clear();
    const n = summary().length;
    p.enqueue(tone('b', 1000));
    expect(summary().slice(n)).toHaveLength(10); // full 200 ms lead again: Telnyx's queue is empty
  });

  it('a cleared mark echoed late does not complete a new segment that reuses its id', () => {
    const { p, time, events } = setup();
    p.enqueue(tone('x', 40));
    time.advance(20);
    p.clear();
    p.enqueue(tone('x', 40)); // same id, fully sent at once
    expect(p.onMark('x')).toBe(false); // Telnyx's echo of the cleared mark
    expect(p.onMark('x')).toBe(true); // the new segment's own mark
    expect(events).toEqual(['started x', 'started x', 'done x', 'idle']);
  });
});

describe('StreamPlayout bounds and lifecycle', () => {
  it('refuses a segment that would overflow maxQueuedMs, queuing nothing', () => {
    const { p } = setup({ maxQueuedMs: 1000 });
    p.enqueue(tone('a', 600)); // 200 sent at once, 400 queued
    expect(p.queuedMs).toBe(400);
    let err: unknown;
    try {
      p.enqueue(tone('b', 700));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PlayoutQueueFullError);
    expect(err).toMatchObject({ code: 'playout_queue_full', retryable: true });
    expect(p.queuedMs).toBe(400);
    p.enqueue(tone('c', 600)); // exactly full is fine
    expect(p.queuedMs).toBe(1000);
  });

  it('rejects duplicate ids in flight, bad rates and bad options', () => {
    const { p } = setup();
    p.enqueue(tone('a', 100));
    expect(() => p.enqueue(tone('a', 100))).toThrow(PlayoutUsageError);
    expect(() => p.enqueue({ id: 'x', samples: new Int16Array(10), sampleRate: 0 })).toThrow(PlayoutUsageError);
    expect(() => setup({ messageMs: 120 })).toThrow(PlayoutUsageError);
    expect(() => setup({ messageMs: 30 })).toThrow(PlayoutUsageError);
    expect(() => setup({ codecRate: 16000 })).toThrow(PlayoutUsageError);
    expect(() => setup({ encoding: 'OPUS', codecRate: 16000, messageMs: 40 })).toThrow(PlayoutUsageError);
    expect(() => setup({ maxAheadMs: 40, messageMs: 60 })).toThrow(PlayoutUsageError);
  });

  it('close() stops sending, leaves the ticker and refuses more audio', async () => {
    const { p, time, clock, summary } = setup();
    p.enqueue(tone('a', 1000));
    const waiting = p.waitForPlayout();
    p.close();
    const n = summary().length;
    time.advance(500);
    expect(summary()).toHaveLength(n);
    expect(clock.size).toBe(0);
    expect(p.state).toBe('closed');
    expect(() => p.enqueue(tone('b', 100))).toThrow(PlayoutClosedError);
    expect(p.clear()).toEqual({ clearSent: false, segments: [] });
    await expect(waiting).resolves.toBeUndefined();
  });

  it('event handlers may clear or enqueue from inside a send', () => {
    const { p, summary } = setup({
      events: { segmentStarted: (id) => (id === 'b' ? p.clear() : p.enqueue(tone(`${id}x`, 20))) },
    });
    p.enqueue(tone('a', 20)); // started a → enqueue ax; started ax → enqueue axx …
    expect(summary().slice(0, 4)).toEqual(['media 20', 'mark a', 'media 20', 'mark ax']);
    const q = setup({ events: { segmentStarted: () => q.p.clear() } });
    q.p.enqueue(tone('b', 100));
    expect(q.summary()).toEqual(['media 20', 'clear']);
    expect(q.p.state).toBe('idle');
  });
});
