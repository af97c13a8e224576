/**
 * L16: uncompressed 16-bit PCM at the stream's rate. RTP L16 (RFC 3551 §4.5.11) is big-endian;
 * some senders put little-endian samples in anyway, so the decoder can also decide per stream.
 *
 * How 'auto' decides: audio is predictable from its recent past, while a frame read in the wrong
 * byte order has the true low bytes — noise — in its high byte, so it is loud white noise. For
 * each frame we fit an order-2 linear predictor (autocorrelation method, Levinson) to both
 * readings and compare the residual energies: the right reading's is smaller by orders of
 * magnitude for speech, tones at any frequency and level, and quiet background noise. A frame
 * votes when one residual is under a quarter of the other and the larger is clearly above
 * silence (so all-zero or ±1 frames don't vote); the order that leads by VOTES_TO_DECIDE votes
 * wins for the rest of the stream. Until then each frame uses its own better reading.
 * Frames with few distinct sample values (digital square waves, a tone at exactly fs/4 with
 * multiple-of-256 samples) are ambiguous by construction — the swapped reading is an equally
 * plausible signal — so only frames with MIN_DISTINCT_BYTES different high or low bytes vote.
 * Also no vote: full-scale white noise (both readings are white noise).
 */
import { Int16Frames, Uint8Frames } from './frame-buffer';
import { MAX_PAYLOAD_BYTES, type Decoder, type Encoder, type L16ByteOrder } from './types';

/** 5 decisive frames = 100 ms of real audio; more than any plausible run of misleading frames. */
const VOTES_TO_DECIDE = 5;
/** A frame votes only when the wrong reading's residual is at least this many times (6 dB) the right one's… */
const DECISIVE_RATIO = 4;
/** …and the larger residual's mean power exceeds this (≈ −60 dBFS); below it both are silence. */
const DECISIVE_FLOOR_PER_SAMPLE = 32 * 32;
/** Real audio frames have dozens of distinct byte values; synthetic ambiguous ones have 2–4. */
const MIN_DISTINCT_BYTES = 16;

/** Number of distinct values among the even-indexed bytes (`odd` = false) or the odd ones. */
function distinctBytes(payload: Uint8Array, odd: boolean, seen: Uint8Array): number {
  seen.fill(0);
  let count = 0;
  for (let j = odd ? 1 : 0; j < payload.length; j += 2) {
    const b = payload[j]!;
    if (seen[b] === 0) {
      seen[b] = 1;
      count += 1;
    }
  }
  return count;
}

function readBe(payload: Uint8Array, out: Int16Array, n: number): void {
  for (let i = 0, j = 0; i < n; i += 1, j += 2) out[i] = ((payload[j]! << 24) | (payload[j + 1]! << 16)) >> 16;
}

function readLe(payload: Uint8Array, out: Int16Array, n: number): void {
  for (let i = 0, j = 0; i < n; i += 1, j += 2) out[i] = ((payload[j + 1]! << 24) | (payload[j]! << 16)) >> 16;
}

/**
 * Residual energy of the best order-2 linear predictor for the payload read big-endian (`be`)
 * or little-endian: low for audio, high for noise. Autocorrelation method, so it is never < 0.
 */
export function l16PredictionResidual(payload: Uint8Array, be: boolean): number {
  const n = payload.length >> 1;
  const hi = be ? 0 : 1;
  const lo = 1 - hi;
  let r0 = 0;
  let r1 = 0;
  let r2 = 0;
  let x1 = 0;
  let x2 = 0;
  for (let j = 0; j < 2 * n; j += 2) {
    const x = ((payload[j + hi]! << 24) | (payload[j + lo]! << 16)) >> 16;
    r0 += x * x;
    r1 += x * x1;
    r2 += x * x2;
    x2 = x1;
    x1 = x;
  }
  if (r0 === 0) return 0;
  const k1 = r1 / r0;
  const e1 = r0 * (1 - k1 * k1);
  if (e1 <= 0) return 0;
  const k2 = (r2 - k1 * r1) / e1;
  return Math.max(0, e1 * (1 - k2 * k2));
}

export class L16Decoder implements Decoder {
  readonly encoding = 'L16' as const;
  private readonly out = new Int16Frames(320);
  private order: L16ByteOrder | undefined;
  /** Votes for big-endian minus votes for little-endian while undecided. */
  private lead = 0;
  private readonly seen = new Uint8Array(256);
  private closed = false;

  constructor(
    readonly sampleRate: number,
    byteOrder: L16ByteOrder | 'auto' = 'be',
  ) {
    this.order = byteOrder === 'auto' ? undefined : byteOrder;
  }

  /** The byte order in use; undefined while 'auto' has not decided yet. */
  get byteOrder(): L16ByteOrder | undefined {
    return this.order;
  }

  decode(payload: Uint8Array): Int16Array | null {
    const bytes = payload.length;
    if (this.closed || bytes === 0 || bytes % 2 !== 0 || bytes > MAX_PAYLOAD_BYTES) return null;
    const n = bytes >> 1;
    const buf = this.out.reserve(n);
    const order = this.order ?? this.vote(payload, n);
    if (order === 'be') readBe(payload, buf, n);
    else readLe(payload, buf, n);
    return this.out.view(n);
  }

  close(): void {
    this.closed = true;
  }

  private vote(payload: Uint8Array, n: number): L16ByteOrder {
    const be = l16PredictionResidual(payload, true);
    const le = l16PredictionResidual(payload, false);
    const guess: L16ByteOrder = be <= le ? 'be' : 'le';
    const low = Math.min(be, le);
    const high = Math.max(be, le);
    const decisive =
      high >= DECISIVE_RATIO * low &&
      high > DECISIVE_FLOOR_PER_SAMPLE * n &&
      Math.max(distinctBytes(payload, false, this.seen), distinctBytes(payload, true, this.seen)) >= MIN_DISTINCT_BYTES;
    if (decisive) {
      this.lead += guess === 'be' ? 1 : -1;
      if (this.lead >= VOTES_TO_DECIDE) this.order = 'be';
      else if (this.lead <= -VOTES_TO_DECIDE) this.order = 'le';
    }
    return guess;
  }
}

export class L16Encoder implements Encoder {
  readonly encoding = 'L16' as const;
  private readonly out = new Uint8Frames(640);

  constructor(
    readonly sampleRate: number,
    private readonly byteOrder: L16ByteOrder = 'be',
  ) {}

  encode(pcm: Int16Array): Uint8Array {
    const n = pcm.length;
    const buf = this.out.reserve(n * 2);
    const hi = this.byteOrder === 'be' ? 0 : 1;
    const lo = 1 - hi;
    for (let i = 0, j = 0; i < n; i += 1, j += 2) {
      const x = pcm[i]!;
      buf[j + hi] = (x >> 8) & 0xff;
      buf[j + lo] = x & 0xff;
    }
    return this.out.view(n * 2);
  }

  close(): void {}
}
