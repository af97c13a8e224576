/**
 * G.722 at 64 kbit/s (ITU-T G.722 mode 1): 16 kHz PCM ↔ one byte per two samples
 * (byte = IHIGH << 6 | ILOW). A 24-tap QMF splits the signal into two 8 kHz sub-bands, each
 * coded by SB-ADPCM (g722-band.ts). Bit-exact with the ITU algorithm (tested against ffmpeg,
 * which passes the ITU vectors). PCM is 16-bit, so the QMF scaling is the 16-bit variant used by
 * ffmpeg/spandsp: input sums >> 14, output sums >> 11.
 */
import { Int16Frames, Uint8Frames } from './frame-buffer';
import { QM2, QM6, SubBand, sat15, sat16 } from './g722-band';
import { MAX_PAYLOAD_BYTES, type Decoder, type Encoder } from './types';

/** QMF delay line: the last 22 inputs are carried over; 1,024 entries means one copy per 500 pairs. */
const QMF_LINE = 1024;
const QMF_KEEP = 22;

/** Table 5 (Q6): low-band decision levels; index 0 unused, entries 30–31 are sentinels. */
const Q6 = new Int32Array([
  0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714, 786, 858, 940, 1023, 1121, 1219, 1339,
  1458, 1612, 1765, 1980, 2195, 2557, 2919, 0, 0,
]);
/** ILN / ILP: 6-bit low-band codes for negative / positive differences, by decision interval. */
const ILN = new Int32Array([
  0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 0,
]);
const ILP = new Int32Array([
  0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34,
  33, 32, 0,
]);
/** IHN / IHP: 2-bit high-band codes (QUANTH). */
const IHN = [0, 1, 0];
const IHP = [0, 3, 2];

/**
 * The 24-tap QMF of Table 11 (h(0..11) = 3, −11, −11, 53, 12, −156, 32, 362, −210, −805, 951,
 * 3876, then mirrored), unrolled. With pair i of the delay line (i = 0 oldest) at x[b + 2i] and
 * x[b + 2i + 1]: qmfEven = Σ x[b + 2i]·h(2i), qmfOdd = Σ x[b + 2i + 1]·h(2i + 1).
 */
function qmfEven(x: Int32Array, b: number): number {
  return (
    3 * x[b]! - 11 * x[b + 2]! + 12 * x[b + 4]! + 32 * x[b + 6]! - 210 * x[b + 8]! + 951 * x[b + 10]! +
    3876 * x[b + 12]! - 805 * x[b + 14]! + 362 * x[b + 16]! - 156 * x[b + 18]! + 53 * x[b + 20]! - 11 * x[b + 22]!
  );
}

function qmfOdd(x: Int32Array, b: number): number {
  return (
    -11 * x[b + 1]! + 53 * x[b + 3]! - 156 * x[b + 5]! + 362 * x[b + 7]! - 805 * x[b + 9]! + 3876 * x[b + 11]! +
    951 * x[b + 13]! - 210 * x[b + 15]! + 32 * x[b + 17]! + 12 * x[b + 19]! - 11 * x[b + 21]! + 3 * x[b + 23]!
  );
}

/** Shared QMF delay line: inputs land at `pos`; when full, the last 22 are moved to the front. */
class QmfLine {
  readonly x = new Int32Array(QMF_LINE);
  pos = QMF_KEEP;

  /** Appends a pair and returns the index of the oldest of the 24 taps now in use. */
  push(first: number, second: number): number {
    if (this.pos >= QMF_LINE) {
      this.x.copyWithin(0, this.pos - QMF_KEEP, this.pos);
      this.pos = QMF_KEEP;
    }
    this.x[this.pos] = first;
    this.x[this.pos + 1] = second;
    this.pos += 2;
    return this.pos - 24;
  }
}

export class G722Encoder implements Encoder {
  readonly encoding = 'G722' as const;
  readonly sampleRate = 16000;
  private readonly low = new SubBand(false);
  private readonly high = new SubBand(true);
  private readonly qmf = new QmfLine();
  private readonly out = new Uint8Frames(160);
  /** A sample left over from an odd-length call, coded with the first sample of the next. */
  private carry: number | undefined;

  encode(pcm: Int16Array): Uint8Array {
    let i = 0;
    let n = 0;
    const total = pcm.length + (this.carry === undefined ? 0 : 1);
    const buf = this.out.reserve(total >> 1);
    if (this.carry !== undefined && pcm.length > 0) {
      buf[n++] = this.encodePair(this.carry, pcm[0]!);
      this.carry = undefined;
      i = 1;
    }
    for (; i + 1 < pcm.length; i += 2) buf[n++] = this.encodePair(pcm[i]!, pcm[i + 1]!);
    if (i < pcm.length) this.carry = pcm[i]!;
    return this.out.view(n);
  }

  close(): void {}

  private encodePair(s0: number, s1: number): number {
    const qmf = this.qmf;
    const base = qmf.push(s0, s1);
    // Transmit QMF: xa over the newer sample of each pair, xb over the older.
    const xa = qmfOdd(qmf.x, base);
    const xb = qmfEven(qmf.x, base);
    const xl = (xa + xb) >> 14;
    const xh = (xa - xb) >> 14;

    // Low band: SUBTL, QUANTL (find the decision interval of |EL| scaled by DETL).
    const low = this.low;
    const el = sat16(xl - low.s);
    const wl = el >= 0 ? el : -1 - el;
    // Smallest k in 1..29 with |EL| below decision level k (30 if none); levels only grow with k.
    const det = low.det;
    let k = 1;
    let top = 30;
    while (k < top) {
      const mid = (k + top) >> 1;
      if (wl < (Q6[mid]! * det) >> 12) top = mid;
      else k = mid + 1;
    }
    const ilow = el < 0 ? ILN[k]! : ILP[k]!;
    low.adaptLow(ilow);

    // High band: SUBTH, QUANTH, INVQAH.
    const high = this.high;
    const eh = sat16(xh - high.s);
    const wh = eh >= 0 ? eh : -1 - eh;
    const mih = wh >= (564 * high.det) >> 12 ? 2 : 1;
    const ihigh = eh < 0 ? IHN[mih]! : IHP[mih]!;
    high.adaptHigh(ihigh, (high.det * QM2[ihigh]!) >> 15);

    return (ihigh << 6) | ilow;
  }
}

export class G722Decoder implements Decoder {
  readonly encoding = 'G722' as const;
  readonly sampleRate = 16000;
  private readonly low = new SubBand(false);
  private readonly high = new SubBand(true);
  private readonly qmf = new QmfLine();
  private readonly out = new Int16Frames(320);
  private closed = false;

  decode(payload: Uint8Array): Int16Array | null {
    const n = payload.length;
    if (this.closed || n === 0 || n > MAX_PAYLOAD_BYTES) return null;
    const buf = this.out.reserve(n * 2);
    const low = this.low;
    const high = this.high;
    const qmf = this.qmf;
    const x = qmf.x;
    for (let j = 0; j < n; j += 1) {
      const code = payload[j]!;
      const ilow = code & 0x3f;
      const ihigh = code >> 6;
      // INVQBL (6-bit, mode 1) + RECONS for the output; the predictor adapts on the 4-bit value.
      const rl = sat15(low.s + ((low.det * QM6[ilow]!) >> 15));
      low.adaptLow(ilow);
      const dh = (high.det * QM2[ihigh]!) >> 15;
      const rh = sat15(high.s + dh);
      high.adaptHigh(ihigh, dh);

      // Receive QMF: the sum and difference signals interleaved, newest last.
      const base = qmf.push(rl + rh, rl - rh);
      buf[2 * j] = sat16(qmfOdd(x, base) >> 11);
      buf[2 * j + 1] = sat16(qmfEven(x, base) >> 11);
    }
    return this.out.view(n * 2);
  }

  close(): void {
    this.closed = true;
  }
}
