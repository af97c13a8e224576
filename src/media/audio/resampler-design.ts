/**
 * FIR design for StreamingResampler: Kaiser-windowed sinc, either a polyphase bank for any rational
 * ratio or a half-band interpolator for exact 2× upsampling (the 8 → 16 kHz telephone hot path).
 * Tables are immutable and shared by every resampler with the same parameters: a small LRU cache
 * (MAX_CACHED_FILTER_BANKS; a process uses a handful of rate pairs) so rates a peer picks can
 * neither grow it nor pin memory. Designs larger than MAX_BANK_COEFFS are refused: coprime rates
 * (1600003 → 16000) would otherwise build a bank of up·taps ≈ 28 M coefficients, synchronously.
 */

export interface FilterOptions {
  /** −6 dB cutoff as a fraction of the lower Nyquist frequency (polyphase only). */
  rolloff: number;
  /** Sinc zero-crossings on each side of the centre tap (filter half-length). */
  zeros: number;
  /** Kaiser window β (≈ 6 → 60 dB stop band; 8.6 → 90 dB). */
  beta: number;
}

export interface PolyphaseBank {
  readonly kind: 'polyphase';
  /** Interpolation factor (number of phases) and decimation factor of the reduced ratio. */
  readonly up: number;
  readonly down: number;
  /** Taps per phase. */
  readonly taps: number;
  /** Phase-major coefficients: coeffs[phase * taps + k] weighs x[base - k]. Symmetric when up = 1. */
  readonly coeffs: Float64Array;
}

export interface HalfBand {
  readonly kind: 'halfband';
  /**
   * One side of the odd-phase kernel: y[2j+1] = Σ g[m]·(x[c+1+m] + x[c−m]) with c = j − zeros.
   * The even phase of a half-band filter is a pure delay (its sinc samples fall on zero-crossings),
   * so y[2j] = x[c]: half the outputs are copies and the other half fold to `zeros` multiplies.
   */
  readonly g: Float64Array;
  readonly zeros: number;
}

export type FilterBank = PolyphaseBank | HalfBand;

/**
 * 16 banks: every pair the runtime uses (5 L16 rates, TTS 22.05/24 kHz, each to 8 or 16 kHz and back)
 * fits, with room; a miss only costs one design (< 1 ms for real pairs).
 */
export const MAX_CACHED_FILTER_BANKS = 16;
/**
 * 2^17 coefficients (1 MB): real pairs need ≤ 12 k (11.025 → 16 kHz: 640 phases × 18 taps), so
 * any rate pair in use fits 10× over, while the cache's worst case stays 16 MB.
 */
export const MAX_BANK_COEFFS = 1 << 17;

/** Insertion-ordered: the first key is the least recently used. */
const banks = new Map<string, FilterBank>();

/** How many filter banks are cached (for tests). */
export function cachedFilterBanks(): number {
  return banks.size;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Zeroth-order modified Bessel function of the first kind (series; converges fast for β ≤ 20). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 50; k += 1) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

const sinc = (x: number) => (x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x));
/** Kaiser window at r ∈ [−1, 1] (0 = centre). */
const kaiser = (r: number, beta: number) => besselI0(beta * Math.sqrt(Math.max(0, 1 - r * r))) / besselI0(beta);

function designPolyphase(inRate: number, outRate: number, o: FilterOptions): PolyphaseBank {
  const g = gcd(inRate, outRate);
  const up = outRate / g;
  const down = inRate / g;
  const fc = (o.rolloff * Math.min(inRate, outRate)) / 2;
  const taps = Math.max(2, Math.ceil((o.zeros / fc) * inRate));
  const n = taps * up;
  if (!(n <= MAX_BANK_COEFFS)) {
    throw new RangeError(`resampling ${inRate} → ${outRate} Hz needs ${up} phases × ${taps} taps (limit ${MAX_BANK_COEFFS} coefficients)`);
  }
  const protoRate = inRate * up;
  const centre = (n - 1) / 2;
  const coeffs = new Float64Array(n);
  for (let phase = 0; phase < up; phase += 1) {
    let sum = 0;
    for (let k = 0; k < taps; k += 1) {
      const idx = phase + up * k;
      const h = sinc((2 * fc * (idx - centre)) / protoRate) * kaiser((idx - centre) / (centre + 1), o.beta);
      coeffs[phase * taps + k] = h;
      sum += h;
    }
    // Unity DC gain per phase: no ripple at the polyphase period on steady signals.
    for (let k = 0; k < taps; k += 1) coeffs[phase * taps + k] /= sum;
  }
  return { kind: 'polyphase', up, down, taps, coeffs };
}

function designHalfBand(o: FilterOptions): HalfBand {
  const g = new Float64Array(o.zeros);
  let sum = 0;
  for (let m = 0; m < o.zeros; m += 1) {
    g[m] = sinc(m + 0.5) * kaiser((m + 0.5) / o.zeros, o.beta);
    sum += 2 * g[m]!;
  }
  for (let m = 0; m < o.zeros; m += 1) g[m] /= sum;
  return { kind: 'halfband', g, zeros: o.zeros };
}

/** The shared filter for a rate pair: half-band for exact 2× up, polyphase otherwise. */
export function filterFor(inRate: number, outRate: number, o: FilterOptions, halfBandZeros: number): FilterBank {
  const halfband = outRate === 2 * inRate;
  const key = halfband ? `hb:${halfBandZeros}:${o.beta}` : `pp:${inRate}:${outRate}:${o.rolloff}:${o.zeros}:${o.beta}`;
  let bank = banks.get(key);
  if (bank) {
    banks.delete(key); // most recently used goes last (construction only, never per frame)
  } else {
    bank = halfband ? designHalfBand({ ...o, zeros: halfBandZeros }) : designPolyphase(inRate, outRate, o);
    if (banks.size >= MAX_CACHED_FILTER_BANKS) banks.delete(banks.keys().next().value!);
  }
  banks.set(key, bank);
  return bank;
}
