import { Int16RingBuffer } from '../../src/media/audio/ring-buffer';

const seq = (from: number, n: number) => Int16Array.from({ length: n }, (_, i) => from + i);

describe('Int16RingBuffer', () => {
  it('keeps only the newest `capacity` samples when full (oldest overwritten)', () => {
    const r = new Int16RingBuffer(5);
    r.write(seq(0, 3));
    r.write(seq(3, 4));
    expect(r.length).toBe(5);
    const out = new Int16Array(5);
    expect(r.copyLatest(5, out)).toBe(5);
    expect(Array.from(out)).toEqual([2, 3, 4, 5, 6]);
  });

  it('copies the latest n samples across the wrap point, clamped to what it holds', () => {
    const r = new Int16RingBuffer(4);
    r.write(seq(0, 3));
    r.write(seq(3, 3)); // wraps
    const out = new Int16Array(6);
    expect(r.copyLatest(3, out, 1)).toBe(3);
    expect(Array.from(out)).toEqual([0, 3, 4, 5, 0, 0]);
    expect(r.copyLatest(10, out)).toBe(4);
  });

  it('a write bigger than the ring keeps its tail', () => {
    const r = new Int16RingBuffer(3);
    r.write(seq(10, 8));
    const out = new Int16Array(3);
    r.copyLatest(3, out);
    expect(Array.from(out)).toEqual([15, 16, 17]);
  });

  it('works as a FIFO via shift (oldest first)', () => {
    const r = new Int16RingBuffer(4);
    r.write(seq(0, 3));
    const out = new Int16Array(2);
    expect(r.shift(2, out)).toBe(2);
    expect(Array.from(out)).toEqual([0, 1]);
    r.write(seq(3, 3)); // 2,3,4,5 across the wrap
    const all = new Int16Array(4);
    expect(r.shift(9, all)).toBe(4);
    expect(Array.from(all)).toEqual([2, 3, 4, 5]);
    expect(r.length).toBe(0);
    expect(r.shift(1)).toBe(0);
  });

  it('a zero-capacity ring holds nothing', () => {
    const r = new Int16RingBuffer(0);
    r.write(seq(0, 4));
    expect(r.length).toBe(0);
    expect(r.copyLatest(4, new Int16Array(4))).toBe(0);
  });
});
