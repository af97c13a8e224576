/** Deterministic synthetic test signals (tones, noise, speech-like bursts) and measurements. */

/** Seeded PRNG (mulberry32) so noise tests are reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const samples = (rate: number, ms: number) => Math.round((rate * ms) / 1000);

/** Scales float samples so their RMS is `dbfs` (re 32768, the convention of frameDbfs) and rounds to Int16. */
export function toInt16AtLevel(x: Float64Array, dbfs: number): Int16Array {
  let sq = 0;
  for (const v of x) sq += v * v;
  const rms = Math.sqrt(sq / Math.max(1, x.length));
  const gain = rms > 0 ? (32768 * 10 ** (dbfs / 20)) / rms : 0;
  const out = new Int16Array(x.length);
  for (let i = 0; i < x.length; i += 1) out[i] = Math.max(-32768, Math.min(32767, Math.round(x[i]! * gain)));
  return out;
}

export function sine(rate: number, freq: number, ms: number, amplitude = 10000, phase = 0): Int16Array {
  const n = samples(rate, ms);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i += 1) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * freq * i) / rate + phase));
  return out;
}

export function silence(rate: number, ms: number): Int16Array {
  return new Int16Array(samples(rate, ms));
}

export function whiteNoise(rate: number, ms: number, dbfs: number, seed = 1): Int16Array {
  const r = rng(seed);
  const x = new Float64Array(samples(rate, ms));
  for (let i = 0; i < x.length; i += 1) x[i] = r() * 2 - 1;
  return toInt16AtLevel(x, dbfs);
}

/** Pink (1/f) noise via Paul Kellet's economy filter. */
export function pinkNoise(rate: number, ms: number, dbfs: number, seed = 2): Int16Array {
  const r = rng(seed);
  const x = new Float64Array(samples(rate, ms));
  let b0 = 0;
  let b1 = 0;
  let b2 = 0;
  for (let i = 0; i < x.length; i += 1) {
    const w = r() * 2 - 1;
    b0 = 0.99765 * b0 + w * 0.099046;
    b1 = 0.963 * b1 + w * 0.2965164;
    b2 = 0.57 * b2 + w * 1.0526913;
    x[i] = b0 + b1 + b2 + w * 0.1848;
  }
  return toInt16AtLevel(x, dbfs);
}

/**
 * "Speech-like": a 140 Hz harmonic series (harmonics to 3.4 kHz, 1/k amplitudes, slight vibrato)
 * amplitude-modulated at a 4 Hz syllable rate with dips of ~12 dB, at `dbfs` RMS.
 */
export function speechLike(rate: number, ms: number, dbfs = -20, f0 = 140): Int16Array {
  const x = new Float64Array(samples(rate, ms));
  const harmonics = Math.floor(3400 / f0);
  let phase = 0;
  for (let i = 0; i < x.length; i += 1) {
    const t = i / rate;
    phase += (2 * Math.PI * f0 * (1 + 0.03 * Math.sin(2 * Math.PI * 5 * t))) / rate;
    let v = 0;
    for (let k = 1; k <= harmonics; k += 1) v += Math.sin(k * phase) / k;
    const env = 0.25 + 0.75 * Math.sin(Math.PI * 4 * t + Math.PI / 4) ** 2;
    x[i] = v * env;
  }
  return toInt16AtLevel(x, dbfs);
}

export function concat(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Sample-wise sum with clamping (e.g. speech over a noise bed). */
export function mix(a: Int16Array, b: Int16Array): Int16Array {
  const out = new Int16Array(Math.max(a.length, b.length));
  for (let i = 0; i < out.length; i += 1) out[i] = Math.max(-32768, Math.min(32767, (a[i] ?? 0) + (b[i] ?? 0)));
  return out;
}

/** Consecutive views of `size` samples (a short tail is dropped). */
export function* frames(x: Int16Array, size: number): Generator<Int16Array> {
  for (let i = 0; i + size <= x.length; i += size) yield x.subarray(i, i + size);
}

export function rms(x: Int16Array, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i += 1) s += x[i]! * x[i]!;
  return Math.sqrt(s / Math.max(1, to - from));
}

export const db = (ratio: number) => 20 * Math.log10(ratio);

/** Amplitude of frequency `freq` in `x` (Goertzel over the whole array), in sample units. */
export function toneAmplitude(x: Int16Array, rate: number, freq: number): number {
  const w = (2 * Math.PI * freq) / rate;
  const c = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < x.length; i += 1) {
    const s0 = x[i]! + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - c * s1 * s2;
  return (2 * Math.sqrt(Math.max(0, power))) / x.length;
}
