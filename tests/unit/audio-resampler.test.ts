import { StreamingResampler } from '../../src/media/audio/resampler';
import { MAX_CACHED_FILTER_BANKS, cachedFilterBanks } from '../../src/media/audio/resampler-design';
import { concat, db, rms, sine, toneAmplitude } from '../support/audio-signals';

const PAIRS: [number, number][] = [
  [8000, 16000],
  [48000, 16000],
  [24000, 16000],
  [22050, 16000],
  [16000, 8000],
  [24000, 8000],
  [24000, 48000],
  [16000, 48000],
  [16000, 16000],
];

function resampleInChunks(r: StreamingResampler, x: Int16Array, chunk: number): Int16Array {
  const parts: Int16Array[] = [];
  for (let i = 0; i < x.length; i += chunk) parts.push(r.process(x.subarray(i, i + chunk)).slice());
  return concat(...parts);
}

/** Steady-state part of an output (skip the filter's start-up transient). */
const steady = (y: Int16Array) => y.subarray(Math.floor(y.length * 0.25), Math.floor(y.length * 0.95));

describe('StreamingResampler', () => {
  it.each(PAIRS)('%i → %i: 20 ms chunks give exactly the same samples as one call (no boundary clicks)', (inRate, outRate) => {
    const x = concat(sine(inRate, 1000, 1000, 12000), sine(inRate, 300, 500, 8000, 1));
    const whole = new StreamingResampler(inRate, outRate).process(x).slice();
    const chunked = resampleInChunks(new StreamingResampler(inRate, outRate), x, inRate / 50);
    expect(chunked.length).toBe(whole.length);
    expect(chunked).toEqual(whole);
    // Also with an awkward chunk size that never aligns with the polyphase period.
    expect(resampleInChunks(new StreamingResampler(inRate, outRate), x, 137)).toEqual(whole);
  });

  it.each(PAIRS)('%i → %i: output length tracks the rate ratio', (inRate, outRate) => {
    const r = new StreamingResampler(inRate, outRate);
    let produced = 0;
    const chunk = inRate / 50;
    for (let i = 0; i < 100; i += 1) produced += r.process(new Int16Array(chunk)).length;
    expect(Math.abs(produced - 2 * outRate)).toBeLessThanOrEqual(1);
  });

  it.each(PAIRS)('%i → %i: passes a 1 kHz tone within 0.5 dB', (inRate, outRate) => {
    const y = new StreamingResampler(inRate, outRate).process(sine(inRate, 1000, 500, 10000));
    expect(Math.abs(db(rms(steady(y)) / (10000 / Math.SQRT2)))).toBeLessThan(0.5);
  });

  it.each([
    [48000, 16000, 12000],
    [24000, 16000, 10000],
    [22050, 16000, 10000],
    [16000, 8000, 6000],
    [24000, 8000, 6000],
  ])('%i → %i: a %i Hz tone (would alias into the speech band) is suppressed by > 50 dB', (inRate, outRate, f) => {
    const y = new StreamingResampler(inRate, outRate).process(sine(inRate, f, 500, 10000));
    expect(db(rms(steady(y)) / (10000 / Math.SQRT2))).toBeLessThan(-50);
  });

  it('8k → 16k: the image of a 3 kHz tone at 5 kHz is suppressed by > 40 dB', () => {
    const y = steady(new StreamingResampler(8000, 16000).process(sine(8000, 3000, 500, 10000)));
    expect(db(toneAmplitude(y, 16000, 5000) / toneAmplitude(y, 16000, 3000))).toBeLessThan(-40);
  });

  it('clamps overshoot instead of wrapping around on full-scale input', () => {
    const square = new Int16Array(8000).map((_, i) => (Math.floor(i / 20) % 2 === 0 ? 32767 : -32768));
    const y = new StreamingResampler(8000, 16000).process(square);
    for (let i = 1; i < y.length; i += 1) expect(Math.abs(y[i]! - y[i - 1]!)).toBeLessThan(40000);
    expect(Math.max(...y)).toBe(32767);
  });

  it('returns a view into a reused buffer and grows it for larger chunks', () => {
    const r = new StreamingResampler(8000, 16000);
    const a = r.process(new Int16Array(160));
    const b = r.process(new Int16Array(160));
    expect(a.buffer).toBe(b.buffer);
    expect(r.process(new Int16Array(8000)).length).toBe(16000);
  });

  it('reset() forgets the carried history', () => {
    const r = new StreamingResampler(48000, 16000);
    const x = sine(48000, 440, 100);
    const first = r.process(x).slice();
    r.reset();
    expect(r.process(x)).toEqual(first);
  });

  it('rejects non-integer or non-positive rates', () => {
    expect(() => new StreamingResampler(0, 16000)).toThrow(RangeError);
    expect(() => new StreamingResampler(8000.5, 16000)).toThrow(RangeError);
  });

  it('refuses rates whose filter would be huge instead of building it (no allocation sized by a peer-chosen rate)', () => {
    // 1600003 → 16000 has no common factor: a 16000-phase bank of ~28 M taps (≈ 220 MB).
    expect(() => new StreamingResampler(1600003, 16000)).toThrow(RangeError);
    expect(() => new StreamingResampler(16000, 1600003)).toThrow(RangeError);
    // 1 Hz → 16 kHz: a 16000× ratio, ≈ 0.5 M output samples per 20 ms input sample.
    expect(() => new StreamingResampler(1, 16000)).toThrow(RangeError);
    // Coprime rates in range whose bank would still be too big.
    expect(() => new StreamingResampler(47999, 16001)).toThrow(RangeError);
  });

  it('keeps a bounded number of filter banks, however many rate pairs are asked for', () => {
    for (let i = 0; i < 3 * MAX_CACHED_FILTER_BANKS; i += 1) new StreamingResampler(8000 + 100 * (i + 1), 16000);
    expect(cachedFilterBanks()).toBeLessThanOrEqual(MAX_CACHED_FILTER_BANKS);
    // The pairs in use keep working (evicted ones are designed again).
    expect(new StreamingResampler(8000, 16000).process(new Int16Array(160).fill(1000)).length).toBeGreaterThan(300);
  });
});
