/**
 * AMR-WB payloads → storage-format frames, the input opencore's D_IF_decode takes.
 *
 * Accepted payloads (RFC 4867, single channel, no interleaving, no CRC — Telnyx negotiates none):
 * - octet-aligned (§4.4): CMR byte, 1-byte ToC entries (F|FT|Q|PP), frames each padded to a byte;
 * - bandwidth-efficient (§4.3): 4-bit CMR, 6-bit ToC entries (F|FT|Q), frames bit-packed, one
 *   final pad to a byte;
 * - storage format (§5.3): frames each as a ToC byte (0|FT|Q|00) plus the padded speech bits.
 * Single-frame sizes of bandwidth-efficient and storage payloads always coincide, so 'auto' goes
 * by header bits too and settles on a format per stream (see AmrWbPayloadReader).
 */

export type AmrWbPayloadFormat = 'octet-aligned' | 'bandwidth-efficient' | 'storage';

/** Speech bits per frame type, 3GPP TS 26.201 Table 2 (FT 9 = SID; 10–13 reserved = −1; 14 SPEECH_LOST, 15 NO_DATA). */
export const AMRWB_FRAME_BITS: readonly number[] = [132, 177, 253, 285, 317, 365, 397, 461, 477, 40, -1, -1, -1, -1, 0, 0];
/** Frames per payload we accept: 12 × 20 ms = 240 ms. RFC 4867 allows more; no telephony sender does. */
export const AMRWB_MAX_FRAMES = 12;
/** Each storage frame is written at a fixed slot: 1 ToC byte + 60 bytes (FT 8) fits in 64. */
export const AMRWB_SLOT_BYTES = 64;

const CMR_NO_REQUEST = 15;
const validCmr = (cmr: number): boolean => cmr <= 8 || cmr === CMR_NO_REQUEST;
const frameBytes = (ft: number): number => (AMRWB_FRAME_BITS[ft]! + 7) >> 3;
const storageToc = (ft: number, q: number): number => (ft << 3) | (q << 2);

/**
 * Writes the frames of `payload` (in `format`) to `out` as storage frames, frame k at
 * k × AMRWB_SLOT_BYTES. Returns the frame count, or −1 when the payload is not valid in that
 * format. `out` needs AMRWB_MAX_FRAMES × AMRWB_SLOT_BYTES bytes.
 */
export function toStorageFrames(payload: Uint8Array, format: AmrWbPayloadFormat, out: Uint8Array): number {
  if (payload.length === 0) return -1;
  if (format === 'octet-aligned') return fromOctetAligned(payload, out);
  if (format === 'bandwidth-efficient') return fromBandwidthEfficient(payload, out);
  return fromStorage(payload, out);
}

function fromOctetAligned(p: Uint8Array, out: Uint8Array): number {
  if (!validCmr(p[0]! >> 4)) return -1; // the 4 reserved bits after the CMR are ignored (§4.4.1)
  let pos = 1;
  let n = 0;
  for (;;) {
    if (pos >= p.length || n === AMRWB_MAX_FRAMES) return -1;
    const toc = p[pos++]!;
    const ft = (toc >> 3) & 15;
    if (AMRWB_FRAME_BITS[ft]! < 0) return -1;
    out[n++ * AMRWB_SLOT_BYTES] = storageToc(ft, (toc >> 2) & 1);
    if ((toc & 0x80) === 0) break;
  }
  for (let k = 0; k < n; k += 1) {
    const slot = k * AMRWB_SLOT_BYTES;
    const len = frameBytes((out[slot]! >> 3) & 15);
    if (pos + len > p.length) return -1;
    for (let i = 0; i < len; i += 1) out[slot + 1 + i] = p[pos + i]!;
    pos += len;
  }
  return pos === p.length ? n : -1;
}

/** `bits` (≤ 8) bits of `p` starting at bit `at`, MSB first; bits past the end read as 0. */
function readBits(p: Uint8Array, at: number, bits: number): number {
  const i = at >> 3;
  const word = (p[i]! << 8) | (i + 1 < p.length ? p[i + 1]! : 0);
  return (word >> (16 - (at & 7) - bits)) & ((1 << bits) - 1);
}

function fromBandwidthEfficient(p: Uint8Array, out: Uint8Array): number {
  const total = p.length * 8;
  if (!validCmr(readBits(p, 0, 4))) return -1;
  let at = 4;
  let n = 0;
  for (;;) {
    if (at + 6 > total || n === AMRWB_MAX_FRAMES) return -1;
    const toc = readBits(p, at, 6); // F | FT(4) | Q
    at += 6;
    const ft = (toc >> 1) & 15;
    if (AMRWB_FRAME_BITS[ft]! < 0) return -1;
    out[n++ * AMRWB_SLOT_BYTES] = storageToc(ft, toc & 1);
    if ((toc & 0x20) === 0) break;
  }
  for (let k = 0; k < n; k += 1) {
    const slot = k * AMRWB_SLOT_BYTES;
    const bits = AMRWB_FRAME_BITS[(out[slot]! >> 3) & 15]!;
    if (at + bits > total) return -1;
    const whole = bits >> 3;
    for (let i = 0; i < whole; i += 1) out[slot + 1 + i] = readBits(p, at + 8 * i, 8);
    const rest = bits & 7;
    if (rest) out[slot + 1 + whole] = readBits(p, at + 8 * whole, rest) << (8 - rest);
    at += bits;
  }
  return total - at < 8 ? n : -1; // only the final padding may follow the last frame
}

function fromStorage(p: Uint8Array, out: Uint8Array): number {
  let pos = 0;
  let n = 0;
  while (pos < p.length) {
    const toc = p[pos]!;
    // Storage ToC padding bits are zero; insisting on it keeps RTP payloads from passing as storage.
    if (n === AMRWB_MAX_FRAMES || (toc & 0x83) !== 0 || AMRWB_FRAME_BITS[(toc >> 3) & 15]! < 0) return -1;
    const len = frameBytes((toc >> 3) & 15);
    if (pos + 1 + len > p.length) return -1;
    const slot = n * AMRWB_SLOT_BYTES;
    for (let i = 0; i <= len; i += 1) out[slot + i] = p[pos + i]!;
    pos += 1 + len;
    n += 1;
  }
  return n;
}

/** Preference when a payload is valid in several formats and the stream has not settled yet. */
const AUTO_ORDER: readonly AmrWbPayloadFormat[] = ['octet-aligned', 'bandwidth-efficient', 'storage'];

/**
 * Per-stream payload reader. With a fixed format it just converts. With 'auto' it tries each
 * format; the first payload that only one format accepts fixes the stream's format (Telnyx never
 * switches mid-stream). Ambiguous payloads before that use the preference order: Telnyx sends RTP
 * payloads, and octet-aligned never collides with storage in size.
 */
export class AmrWbPayloadReader {
  private settled: AmrWbPayloadFormat | undefined;

  constructor(private readonly configured: AmrWbPayloadFormat | 'auto' = 'auto') {
    if (configured !== 'auto') this.settled = configured;
  }

  /** The format in use; undefined while 'auto' has not seen an unambiguous payload. */
  get format(): AmrWbPayloadFormat | undefined {
    return this.settled;
  }

  /** Like toStorageFrames, choosing the format as described above. */
  read(payload: Uint8Array, out: Uint8Array): number {
    if (this.settled) {
      const n = toStorageFrames(payload, this.settled, out);
      if (n > 0 || this.configured !== 'auto') return n;
    }
    let chosen: AmrWbPayloadFormat | undefined;
    let matches = 0;
    for (const format of AUTO_ORDER) {
      if (toStorageFrames(payload, format, out) > 0) {
        matches += 1;
        chosen ??= format;
      }
    }
    if (!chosen) return -1;
    if (matches === 1 && !this.settled) this.settled = chosen;
    return toStorageFrames(payload, chosen, out);
  }
}
