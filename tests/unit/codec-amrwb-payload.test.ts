import {
  AMRWB_FRAME_BITS,
  AMRWB_MAX_FRAMES,
  AmrWbPayloadReader,
  toStorageFrames,
} from '../../src/media/audio/codecs/amrwb-payload';
import { garbage, packBandwidthEfficient, packOctetAligned } from '../fixtures/codecs/reference';

const out = new Uint8Array(AMRWB_MAX_FRAMES * 64);
const slot = (k: number, len: number) => Array.from(out.subarray(k * 64, k * 64 + len));

/** A storage frame of type `ft` (Q = 1) whose speech bytes count up from `start`. */
function storageFrame(ft: number, start = 1): Uint8Array {
  const bytes = (AMRWB_FRAME_BITS[ft]! + 7) >> 3;
  const f = Uint8Array.from({ length: 1 + bytes }, (_, i) => (i === 0 ? (ft << 3) | 4 : (start + i) & 0xff));
  const pad = bytes * 8 - AMRWB_FRAME_BITS[ft]!;
  if (bytes) f[bytes] = f[bytes]! & ((0xff << pad) & 0xff); // storage padding bits are zero
  return f;
}

describe('toStorageFrames', () => {
  it('octet-aligned: CMR byte, ToC byte, frame bytes → ToC with F and padding cleared', () => {
    const payload = Uint8Array.of(0xf0, 0x44, ...new Uint8Array(60).fill(0xab));
    expect(toStorageFrames(payload, 'octet-aligned', out)).toBe(1);
    expect(slot(0, 61)).toEqual([0x44, ...new Array(60).fill(0xab)]);
  });

  it('bandwidth-efficient: a SID frame unpacked from bit positions 10..49', () => {
    // CMR 1111, F 0, FT 1001, Q 1, then 40 bits 0xDEADBEEF42, then 6 padding bits.
    const bits = '1111' + '0' + '1001' + '1' + 'DEADBEEF42'.replace(/./g, (h) => parseInt(h, 16).toString(2).padStart(4, '0')) + '000000';
    const payload = Uint8Array.from(bits.match(/.{8}/g)!, (b) => parseInt(b, 2));
    expect(toStorageFrames(payload, 'bandwidth-efficient', out)).toBe(1);
    expect(slot(0, 6)).toEqual([0x4c, 0xde, 0xad, 0xbe, 0xef, 0x42]);
  });

  it.each([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])('round-trips frame type %i through both RTP packings', (ft) => {
    const frames = [storageFrame(ft, 3), storageFrame(8, 7), storageFrame(ft, 11)];
    for (const [format, payload] of [
      ['octet-aligned', packOctetAligned(frames)],
      ['bandwidth-efficient', packBandwidthEfficient(frames, AMRWB_FRAME_BITS)],
    ] as const) {
      expect(toStorageFrames(payload, format, out)).toBe(3);
      frames.forEach((f, k) => expect(slot(k, f.length)).toEqual(Array.from(f)));
    }
  });

  it('NO_DATA and SPEECH_LOST frames carry no bits', () => {
    expect(toStorageFrames(Uint8Array.of(0xf0, 0xfc, 0x74), 'octet-aligned', out)).toBe(2);
    expect([out[0], out[64]]).toEqual([0x7c, 0x74]);
  });

  it('storage: one or several frames back to back; padding bits must be zero', () => {
    const two = Uint8Array.of(...storageFrame(2), ...storageFrame(9));
    expect(toStorageFrames(two, 'storage', out)).toBe(2);
    expect(toStorageFrames(Uint8Array.of(0x80 | 0x44, ...new Uint8Array(60)), 'storage', out)).toBe(-1);
  });

  it.each(['octet-aligned', 'bandwidth-efficient', 'storage'] as const)('%s: rejects truncation, trailing bytes, reserved types', (format) => {
    const frame = storageFrame(8);
    const payload =
      format === 'storage' ? frame : format === 'octet-aligned' ? packOctetAligned([frame]) : packBandwidthEfficient([frame], AMRWB_FRAME_BITS);
    expect(toStorageFrames(payload, format, out)).toBe(1);
    expect(toStorageFrames(payload.subarray(0, payload.length - 1), format, out)).toBe(-1);
    expect(toStorageFrames(Uint8Array.of(...payload, 0), format, out)).toBe(-1);
    expect(toStorageFrames(new Uint8Array(0), format, out)).toBe(-1);
    const reserved = storageFrame(8);
    reserved[0] = (11 << 3) | 4;
    expect(toStorageFrames(format === 'storage' ? reserved : packOctetAligned([reserved]), format, out)).toBe(-1);
  });

  it('refuses more than AMRWB_MAX_FRAMES frames and survives garbage', () => {
    const many = Array.from({ length: AMRWB_MAX_FRAMES + 1 }, () => storageFrame(9));
    expect(toStorageFrames(packOctetAligned(many), 'octet-aligned', out)).toBe(-1);
    for (let n = 1; n < 300; n += 1) {
      for (const format of ['octet-aligned', 'bandwidth-efficient', 'storage'] as const) {
        expect(() => toStorageFrames(garbage(n, n), format, out)).not.toThrow();
      }
    }
  });
});

describe('AmrWbPayloadReader', () => {
  it('bandwidth-efficient and storage frames of the same mode have the same size: header bits decide', () => {
    const frame = storageFrame(8);
    expect(packBandwidthEfficient([frame], AMRWB_FRAME_BITS).length).toBe(frame.length);
    const reader = new AmrWbPayloadReader();
    expect(reader.read(packBandwidthEfficient([frame], AMRWB_FRAME_BITS), out)).toBe(1); // CMR 15: not storage
    expect(reader.format).toBe('bandwidth-efficient');
  });

  it('an ambiguous storage frame is read as storage once the stream has shown it is storage', () => {
    const ambiguous = storageFrame(8, 0x7e); // 0x44 then a first speech byte < 0x80: also valid bandwidth-efficient
    ambiguous[1] = 0x10;
    expect(toStorageFrames(ambiguous, 'bandwidth-efficient', out)).toBe(1);
    const reader = new AmrWbPayloadReader();
    const unambiguous = storageFrame(8);
    unambiguous[1] = 0x90;
    expect(reader.read(unambiguous, out)).toBe(1);
    expect(reader.format).toBe('storage');
    expect(reader.read(ambiguous, out)).toBe(1);
    expect(slot(0, ambiguous.length)).toEqual(Array.from(ambiguous));
  });

  it('a fixed format never falls back to another', () => {
    const reader = new AmrWbPayloadReader('octet-aligned');
    expect(reader.read(storageFrame(8), out)).toBe(-1);
  });
});
