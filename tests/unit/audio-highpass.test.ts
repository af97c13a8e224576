import { HighPassFilter } from '../../src/media/audio/highpass';
import { concat, db, rms, sine } from '../support/audio-signals';

/** Gain in dB of the filter at `freq`, measured on the steady state of a 1 s tone. */
function gainDb(rate: number, cutoff: number, freq: number, order?: 2 | 4): number {
  const x = sine(rate, freq, 1000, 10000);
  const y = new HighPassFilter(rate, cutoff, { order }).process(x.slice());
  const from = Math.floor(x.length / 2);
  return db(rms(y, from) / rms(x, from));
}

describe('HighPassFilter', () => {
  it.each([16000, 8000])('at %i Hz with a 100 Hz cutoff: cuts 50 Hz hum by > 15 dB and passes 1 kHz within 1 dB', (rate) => {
    expect(gainDb(rate, 100, 50)).toBeLessThan(-15);
    expect(Math.abs(gainDb(rate, 100, 1000))).toBeLessThan(1);
    expect(Math.abs(gainDb(rate, 100, 300))).toBeLessThan(1);
  });

  it('order 2 is a single Butterworth biquad: −3 dB at the cutoff, only ≈ −12.3 dB an octave below (why 4 is the default)', () => {
    expect(gainDb(16000, 100, 100, 2)).toBeCloseTo(-3, 0);
    expect(gainDb(16000, 100, 50, 2)).toBeGreaterThan(-13.5);
    expect(gainDb(16000, 100, 50, 2)).toBeLessThan(-11);
    expect(gainDb(16000, 100, 100, 4)).toBeCloseTo(-3, 0);
  });

  it('removes DC', () => {
    const y = new HighPassFilter(16000, 100).process(new Int16Array(16000).fill(5000));
    expect(Math.abs(y[y.length - 1]!)).toBeLessThanOrEqual(1);
  });

  it('is stateful across chunks: 20 ms chunks equal one call', () => {
    const x = concat(sine(16000, 50, 300, 8000), sine(16000, 700, 300, 8000));
    const whole = new HighPassFilter(16000, 100).process(x.slice());
    const f = new HighPassFilter(16000, 100);
    const chunked = x.slice();
    for (let i = 0; i < chunked.length; i += 320) f.process(chunked.subarray(i, i + 320));
    expect(chunked).toEqual(whole);
  });

  it('clamps to Int16 on full-scale steps instead of wrapping', () => {
    const x = new Int16Array(1600).map((_, i) => (Math.floor(i / 400) % 2 === 0 ? -32768 : 32767));
    const y = new HighPassFilter(16000, 100).process(x);
    for (let i = 1; i < y.length; i += 1) {
      // A wrap would turn the overshoot after a +step into a large negative value.
      if (i % 400 === 0 && Math.floor(i / 400) % 2 === 1) expect(y[i]).toBe(32767);
    }
  });

  it('rejects a cutoff outside (0, Nyquist)', () => {
    expect(() => new HighPassFilter(8000, 4000)).toThrow(RangeError);
    expect(() => new HighPassFilter(8000, 0)).toThrow(RangeError);
  });
});
