import type { AppError } from '../../src/lib/errors';
import { AMRWB_FRAME_BITS, createDecoder, isAmrWbAvailable, type AmrWbDecoder } from '../../src/media/audio/codecs';
import {
  alignedCorrelation,
  amrWbStorageFrames,
  concat,
  fixture,
  garbage,
  packBandwidthEfficient,
  packOctetAligned,
  pcmFixture,
} from '../fixtures/codecs/reference';

const ref16 = pcmFixture('speech-16k.s16le');
const ffDecoded = pcmFixture('speech-awb-ffdec.s16le'); // ffmpeg's own AMR-WB decoder, not opencore
// VisualOn-encoded speech; the mode cycles 0..8 frame by frame, so every frame size occurs.
const frames = amrWbStorageFrames(fixture('speech.awb'), AMRWB_FRAME_BITS);

const decodeEach = (payloads: Uint8Array[], format?: 'auto' | 'storage' | 'octet-aligned' | 'bandwidth-efficient') => {
  const d = createDecoder('AMR-WB', { amrWbPayload: format });
  const out = concat(payloads.map((p) => d.decode(p)!.slice()));
  d.close();
  return out;
};

describe('AMR-WB', () => {
  // No skip: CI must install libopencore-amrwb0, and a missing library has to fail the build here.
  it('has libopencore-amrwb available (apt: libopencore-amrwb0)', () => {
    expect(isAmrWbAvailable()).toBe(true);
  });

  it('decodes storage frames of every mode to 320 samples each, faithful to the speech', () => {
    const out = decodeEach(frames, 'storage');
    expect(out.length).toBe(frames.length * 320);
    expect(alignedCorrelation(ref16, out, 800).corr).toBeGreaterThan(0.9);
  });

  it("agrees with ffmpeg's independent decoder", () => {
    const out = decodeEach(frames, 'storage');
    // ffmpeg's output starts 640 samples (2 frames) later; search around that.
    expect(alignedCorrelation(out, ffDecoded, 800).corr).toBeGreaterThan(0.9);
  });

  it.each([
    ['octet-aligned', (fs: Uint8Array[]) => packOctetAligned(fs)],
    ['bandwidth-efficient', (fs: Uint8Array[]) => packBandwidthEfficient(fs, AMRWB_FRAME_BITS)],
  ] as const)('decodes %s RTP payloads exactly like the storage frames, one or three frames per payload', (format, pack) => {
    const expected = decodeEach(frames, 'storage');
    const single = frames.map((f) => pack([f]));
    expect(Array.from(decodeEach(single, format))).toEqual(Array.from(expected));
    expect(Array.from(decodeEach(single, 'auto'))).toEqual(Array.from(expected));
    const triples: Uint8Array[] = [];
    for (let i = 0; i + 3 <= frames.length; i += 3) triples.push(pack(frames.slice(i, i + 3)));
    expect(Array.from(decodeEach(triples, 'auto'))).toEqual(Array.from(expected.subarray(0, triples.length * 960)));
  });

  it('reuses one output view for payloads with the same frame count (no per-frame allocation)', () => {
    const d = createDecoder('AMR-WB');
    const first = d.decode(packOctetAligned([frames[8]!]));
    expect(d.decode(packOctetAligned([frames[17]!]))).toBe(first);
    d.close();
  });

  it("settles 'auto' on the stream's format", () => {
    const d = createDecoder('AMR-WB') as AmrWbDecoder;
    for (const f of frames.slice(0, 5)) d.decode(packBandwidthEfficient([f], AMRWB_FRAME_BITS));
    expect(d.payloadFormat).toBe('bandwidth-efficient');
    d.close();
  });

  it('turns a NO_DATA frame into 20 ms of concealment rather than a gap', () => {
    const d = createDecoder('AMR-WB');
    d.decode(packOctetAligned([frames[0]!]));
    expect(d.decode(Uint8Array.of(0xf0, 0x7c))!.length).toBe(320); // CMR 15, ToC FT 15 (NO_DATA)
    d.close();
  });

  it('returns null for wrong sizes, reserved frame types and garbage, never throwing', () => {
    const d = createDecoder('AMR-WB');
    const good = packOctetAligned([frames[8]!]);
    expect(d.decode(good.subarray(0, good.length - 1))).toBeNull();
    expect(d.decode(Uint8Array.of(...good, 0))).toBeNull();
    expect(d.decode(Uint8Array.of(0xf0, 0x54, ...new Uint8Array(60)))).toBeNull(); // FT 10 is reserved
    for (let n = 1; n < 200; n += 3) expect(() => d.decode(garbage(n, n))).not.toThrow();
    d.close();
    expect(d.decode(good)).toBeNull();
  });
});

describe('AMR-WB without the library', () => {
  it('throws AppError codec_unavailable and reports unavailable', () => {
    jest.isolateModules(() => {
      jest.doMock('koffi', () => ({
        load: () => {
          throw new Error('cannot open shared object file');
        },
      }));
      const codecs = require('../../src/media/audio/codecs') as typeof import('../../src/media/audio/codecs');
      const errors = require('../../src/lib/errors') as typeof import('../../src/lib/errors');
      expect(codecs.isAmrWbAvailable()).toBe(false);
      let caught: unknown;
      try {
        codecs.createDecoder('AMR-WB');
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(errors.AppError);
      expect((caught as AppError).code).toBe('codec_unavailable');
      expect((caught as AppError).message).toMatch(/libopencore-amrwb0/);
      expect(codecs.createDecoder('PCMU').sampleRate).toBe(8000); // the fallback still works
    });
  });
});
