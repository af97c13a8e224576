import { ReorderBuffer } from '../../src/media/session/reorder-buffer';

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
