/**
 * Streaming rational-ratio resampler built on Kaiser-windowed-sinc FIR filters (resampler-design.ts).
 *
 * Why FIR/windowed sinc: one design covers every ratio Telnyx and the TTS engines give us
 * (8/16/22.05/24/48 kHz), is linear-phase, and carries its history between calls, so 20 ms chunks
 * give bit-identical output to one big call (no clicks at chunk boundaries). Cost is a fixed number
 * of multiply-adds per output sample, cut by two structural tricks:
 *  - exact 2× up (8k→16k, the PCMU hot path; 24k→48k): a half-band filter, whose even outputs are
 *    plain copies and whose odd outputs fold the symmetric kernel → `halfBandZeros` (10) multiplies
 *    per two output samples. −6 dB at the input Nyquist (4 kHz); passband flat to ≈ 3.2 kHz (the
 *    G.711 channel is band-limited to 3.4 kHz anyway); images beyond ≈ 4.8 kHz down > 40 dB.
 *  - integer decimation (48k→16k, 16k→8k, 24k→8k): the single phase is symmetric, so each output
 *    folds to ⌈taps/2⌉ multiplies.
 * Polyphase defaults: −6 dB cutoff at 0.92 × the lower Nyquist (7.36 kHz for → 16 kHz, 3.68 kHz
 * for → 8 kHz), 8 zero-crossings per side, Kaiser β = 6 (≈ 60 dB stop band — above the ≈ 38 dB
 * SNR of G.711, so the filter is never the noise floor). Taps per output sample:
 *   48k→16k 53 (folded 27)   24k→16k 27   22.05k→16k 24   16k→8k 35 (18)   24k→8k 53 (27)   16k→48k 18
 * Anything that would alias into the 0–6.4 kHz speech band is down ≥ 60 dB.
 *
 * Pure: no I/O, timers or logs. `process` returns a view into a buffer owned by the instance.
 */
import { filterFor, type FilterBank, type FilterOptions } from './resampler-design';

export interface ResamplerOptions extends Partial<FilterOptions> {
  /** Half-length of the 2× half-band interpolator in input samples. */
  halfBandZeros?: number;
}

const DEFAULTS: FilterOptions = { rolloff: 0.92, zeros: 8, beta: 6 };
/**
 * Rates we resample between: 1 kHz (below any speech codec) to 384 kHz (the highest rate audio
 * interfaces use). Output buffers scale with the ratio, so it stays ≤ 384; filter banks are capped
 * separately (resampler-design.ts MAX_BANK_COEFFS). Constructing with anything else throws RangeError.
 */
const MIN_RATE = 1000;
const MAX_RATE = 384_000;
const HALF_BAND_ZEROS = 10;

export class StreamingResampler {
  readonly inRate: number;
  readonly outRate: number;
  private readonly bank: FilterBank | null;
  /** Input samples of history carried between calls. */
  private readonly hist: number;
  /** [history | current input] as float64 (each sample is read many times; converting once is
   * faster than reading Int16 in the inner loop); grows only if a larger chunk than ever arrives. */
  private work: Float64Array;
  private out: Int16Array;
  /** Polyphase only: next output's base index into `work` and its phase. */
  private base: number;
  private phase = 0;

  constructor(inRate: number, outRate: number, opts: ResamplerOptions = {}) {
    for (const [name, r] of [['inRate', inRate], ['outRate', outRate]] as const) {
      if (!Number.isInteger(r) || r < MIN_RATE || r > MAX_RATE) throw new RangeError(`${name} must be an integer in ${MIN_RATE}..${MAX_RATE} Hz, got ${r}`);
    }
    this.inRate = inRate;
    this.outRate = outRate;
    const o = { ...DEFAULTS, ...opts };
    this.bank = inRate === outRate ? null : filterFor(inRate, outRate, o, opts.halfBandZeros ?? HALF_BAND_ZEROS);
    this.hist = !this.bank ? 0 : this.bank.kind === 'halfband' ? 2 * this.bank.zeros - 1 : this.bank.taps - 1;
    this.base = this.hist;
    // Sized for 20 ms at the input rate; bigger chunks grow the buffers once.
    const chunk = Math.ceil(inRate / 50);
    this.work = new Float64Array(this.hist + chunk);
    this.out = new Int16Array(this.maxOut(chunk));
  }

  /** Resamples the next chunk. The result is a view into an internal buffer, valid until the next call. */
  process(input: Int16Array): Int16Array {
    const n = input.length;
    const need = this.maxOut(n);
    if (this.out.length < need) this.out = new Int16Array(need);
    const bank = this.bank;
    if (!bank) {
      this.out.set(input);
      return this.out.subarray(0, n);
    }
    const hist = this.hist;
    if (this.work.length < hist + n) {
      const bigger = new Float64Array(hist + n);
      bigger.set(this.work.subarray(0, hist));
      this.work = bigger;
    }
    const work = this.work;
    for (let i = 0; i < n; i += 1) work[hist + i] = input[i]!;
    const count = bank.kind === 'halfband' ? this.halfBand(bank, n) : bank.up === 1 ? this.decimate(bank, n) : this.polyphase(bank, n);
    // Carry the last `hist` input samples as history for the next chunk.
    work.copyWithin(0, n, hist + n);
    return this.out.subarray(0, count);
  }

  /** Forgets the carried history (e.g. when a stream restarts after a gap). */
  reset(): void {
    this.work.fill(0);
    this.base = this.hist;
    this.phase = 0;
  }

  private halfBand(bank: HalfBandT, n: number): number {
    const { g, zeros } = bank;
    if (zeros === 10) return this.halfBand10(g, n);
    const work = this.work;
    const out = this.out;
    for (let i = 0; i < n; i += 1) {
      const c = this.hist + i - zeros;
      out[2 * i] = work[c]!;
      let acc = 0;
      for (let m = 0; m < zeros; m += 1) acc += g[m]! * (work[c + 1 + m]! + work[c - m]!);
      out[2 * i + 1] = clamp16(acc);
    }
    return 2 * n;
  }

  /**
   * halfBand() for the default HALF_BAND_ZEROS = 10 (the PCMU/PCMA 8k→16k hot path, every caller
   * frame): the 10 coefficients in locals and the inner loop unrolled, the multiply-adds in the same
   * order as the generic loop (bit-identical output). The resampler was ~6.5 % of the runtime's busy
   * time at 200 calls (bench:media --profile).
   */
  private halfBand10(g: Float64Array, n: number): number {
    const work = this.work;
    const out = this.out;
    const g0 = g[0]!, g1 = g[1]!, g2 = g[2]!, g3 = g[3]!, g4 = g[4]!;
    const g5 = g[5]!, g6 = g[6]!, g7 = g[7]!, g8 = g[8]!, g9 = g[9]!;
    for (let i = 0, c = this.hist - 10; i < n; i += 1, c += 1) {
      out[2 * i] = work[c]!;
      let acc = 0;
      acc += g0 * (work[c + 1]! + work[c]!);
      acc += g1 * (work[c + 2]! + work[c - 1]!);
      acc += g2 * (work[c + 3]! + work[c - 2]!);
      acc += g3 * (work[c + 4]! + work[c - 3]!);
      acc += g4 * (work[c + 5]! + work[c - 4]!);
      acc += g5 * (work[c + 6]! + work[c - 5]!);
      acc += g6 * (work[c + 7]! + work[c - 6]!);
      acc += g7 * (work[c + 8]! + work[c - 7]!);
      acc += g8 * (work[c + 9]! + work[c - 8]!);
      acc += g9 * (work[c + 10]! + work[c - 9]!);
      out[2 * i + 1] = clamp16(acc);
    }
    return 2 * n;
  }

  /** Integer decimation (up = 1): the single phase is symmetric, so x[b-k] and x[b-(taps-1-k)] share a multiply. */
  private decimate(bank: PolyphaseT, n: number): number {
    const { down, taps, coeffs } = bank;
    const work = this.work;
    const out = this.out;
    const end = this.hist + n;
    const half = taps >> 1;
    const odd = (taps & 1) === 1;
    let base = this.base;
    let count = 0;
    for (; base < end; base += down) {
      const lo = base - taps + 1;
      let acc = odd ? coeffs[half]! * work[lo + half]! : 0;
      for (let k = 0; k < half; k += 1) acc += coeffs[k]! * (work[base - k]! + work[lo + k]!);
      out[count] = clamp16(acc);
      count += 1;
    }
    this.base = base - n;
    return count;
  }

  private polyphase(bank: PolyphaseT, n: number): number {
    const { up, down, taps, coeffs } = bank;
    const work = this.work;
    const out = this.out;
    const end = this.hist + n;
    const stepBase = Math.floor(down / up);
    const stepPhase = down % up;
    let base = this.base;
    let phase = this.phase;
    let count = 0;
    while (base < end) {
      const c0 = phase * taps;
      let acc = 0;
      for (let k = 0; k < taps; k += 1) acc += coeffs[c0 + k]! * work[base - k]!;
      out[count] = clamp16(acc);
      count += 1;
      base += stepBase;
      phase += stepPhase;
      if (phase >= up) {
        phase -= up;
        base += 1;
      }
    }
    this.base = base - n;
    this.phase = phase;
    return count;
  }

  private maxOut(inSamples: number): number {
    return Math.ceil(((inSamples + 1) * this.outRate) / this.inRate) + 2;
  }
}

type HalfBandT = Extract<FilterBank, { kind: 'halfband' }>;
type PolyphaseT = Extract<FilterBank, { kind: 'polyphase' }>;

function clamp16(v: number): number {
  const r = Math.round(v);
  return r > 32767 ? 32767 : r < -32768 ? -32768 : r;
}
