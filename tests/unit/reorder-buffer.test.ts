import { ReorderBuffer } from '../../src/media/jitter/reorder-buffer';

function run(keys: number[], window = 3) {
  const out: (number | string)[] = [];
  const rb = new ReorderBuffer<number>(window, (k) => out.push(k), (n) => out.push(`gap${n}`));
  for (const k of keys) rb.push(k, k);
  return { out, rb };
}

describe('ReorderBuffer', () => {
  it('passes in-order frames straight through', () => {
    expect(run([1, 2, 3, 4]).out).toEqual([1, 2, 3, 4]);
  });

  it('restores order within the jitter window', () => {
    const { out, rb } = run([1, 3, 2, 5, 4, 6]);
    expect(out).toEqual([1, 2, 3, 4, 5, 6]);
    expect(rb.stats.reordered).toBeGreaterThan(0);
    expect(rb.stats.gaps).toBe(0);
  });

  it('reports a lost frame as a gap once the window overflows, and drops it if it arrives late', () => {
    const { out, rb } = run([1, 3, 4, 5, 2]);
    expect(out).toEqual([1, 'gap1', 3, 4, 5]);
    expect(rb.stats).toMatchObject({ gaps: 1, late: 1 });
  });

  it('drops duplicates and bounds what it holds', () => {
    expect(run([1, 3, 3, 2]).rb.stats.duplicates).toBe(1);
    const { out, rb } = run([1, 1, 2, 10]);
    // 10 is 8 ahead of the next expected (3) with a window of 3: 3..7 are given up as gaps.
    expect(out).toEqual([1, 2, 'gap1', 'gap1', 'gap1', 'gap1', 'gap1']);
    expect(rb.stats.late).toBe(1); // a repeat of a frame already released
    rb.flush();
    expect(out.slice(-3)).toEqual(['gap1', 'gap1', 10]);
    expect(rb.stats.gaps).toBe(7);
  });

  it('flush releases held frames with gaps', () => {
    const { out, rb } = run([1, 3]);
    expect(out).toEqual([1]);
    rb.flush();
    expect(out).toEqual([1, 'gap1', 3]);
  });
});

/** A gap sink that fails the test (instead of hanging it) once more silence is asked for than allowed. */
function bounded(window: number, maxGapFill: number, lateRunToResync = 3) {
  const out: (number | string)[] = [];
  let gapFrames = 0;
  const rb = new ReorderBuffer<number>(
    window,
    (k) => out.push(k),
    (n) => {
      gapFrames += n;
      if (gapFrames > 1000) throw new Error(`unbounded gap fill: ${gapFrames} frames`);
      out.push(`gap${n}`);
    },
    { maxGapFill, lateRunToResync },
  );
  return { out, rb, gapFrames: () => gapFrames };
}

describe('ReorderBuffer on hostile numbering', () => {
  it.each([1e4, 1e5, 2 ** 53 - 10])('a forward jump of %d resyncs: at most maxGapFill frames of silence, no loop over the gap', (jump) => {
    const t = bounded(3, 10);
    for (const k of [1, 2, 3, 3 + jump, 4 + jump, 5 + jump]) t.rb.push(k, k);
    expect(t.out).toEqual([1, 2, 3, 'gap10', 3 + jump, 4 + jump, 5 + jump]);
    expect(t.rb.stats).toMatchObject({ resyncs: 1, gaps: 10, late: 0 });
  });

  it('a jump just inside the fill limit is filled frame by frame, one past it resyncs', () => {
    const inside = bounded(3, 10);
    // next expected is 2; 14 is 12 ahead: releases 2..11 (10 gaps) and holds 14 behind 12 and 13.
    for (const k of [1, 14]) inside.rb.push(k, k);
    expect(inside.gapFrames()).toBe(10);
    expect(inside.rb.stats.resyncs).toBe(0);
    const past = bounded(3, 10);
    for (const k of [1, 15]) past.rb.push(k, k);
    expect(past.out).toEqual([1, 'gap10', 15]);
    expect(past.rb.stats.resyncs).toBe(1);
  });

  it('held frames are released in order before a resync', () => {
    const t = bounded(3, 10);
    for (const k of [1, 3, 4, 500]) t.rb.push(k, k);
    expect(t.out).toEqual([1, 'gap1', 3, 4, 'gap9', 500]);
    expect(t.gapFrames()).toBeLessThanOrEqual(10);
  });

  it('a restarted numbering (far backwards) resyncs after a run of consecutive frames instead of dropping the rest of the call', () => {
    const t = bounded(3, 10, 3);
    for (let k = 1000; k <= 1005; k += 1) t.rb.push(k, k);
    for (let k = 1; k <= 6; k += 1) t.rb.push(k, k);
    expect(t.out).toEqual([1000, 1001, 1002, 1003, 1004, 1005, 3, 4, 5, 6]);
    expect(t.rb.stats).toMatchObject({ late: 2, resyncs: 1 });
  });

  it('stray frames far behind are dropped as late without a resync', () => {
    const t = bounded(3, 10, 3);
    for (const k of [1000, 1001, 5, 1002, 6, 1003, 7, 1004, 3, 2, 1]) t.rb.push(k, k);
    expect(t.out).toEqual([1000, 1001, 1002, 1003, 1004]);
    expect(t.rb.stats).toMatchObject({ late: 6, resyncs: 0 });
  });

  it('counts and ignores keys that are not non-negative safe integers', () => {
    const t = bounded(3, 10);
    for (const k of [Number.NaN, -1, 1.5, Infinity, 1e308, 2 ** 53]) t.rb.push(k, 0);
    for (const k of [1, 2]) t.rb.push(k, k);
    expect(t.out).toEqual([1, 2]);
    expect(t.rb.stats.invalid).toBe(6);
  });

  it('reset() releases what is held and starts over at the next key', () => {
    const t = bounded(3, 10);
    for (const k of [10, 12]) t.rb.push(k, k);
    t.rb.reset();
    expect(t.out).toEqual([10, 'gap1', 12]);
    for (const k of [1, 2]) t.rb.push(k, k);
    expect(t.out.slice(-2)).toEqual([1, 2]);
    expect(t.rb.stats.late).toBe(0);
  });

  it('passes in-order items untouched and stores items only through `retain` while a frame is held back', () => {
    const out: string[] = [];
    const retained: string[] = [];
    const rb = new ReorderBuffer<string>(4, (x) => out.push(x), () => undefined, { retain: (x) => (retained.push(x), `${x}'`) });
    rb.push(1, 'a');
    rb.push(3, 'c'); // held: key 2 is missing
    rb.push(2, 'b');
    // While a frame is held, the next ones are stored too (then released in order).
    expect(out).toEqual(['a', "b'", "c'"]);
    expect(retained).toEqual(['c', 'b']);
    rb.push(4, 'd');
    expect(out.at(-1)).toBe('d');
    expect(retained).toHaveLength(2);
  });
});
