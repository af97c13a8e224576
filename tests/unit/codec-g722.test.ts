import { createDecoder, createEncoder } from '../../src/media/audio/codecs';
import { alignedCorrelation, chunks, concat, fixture, pcmFixture, sine, snrDb } from '../fixtures/codecs/reference';

const ref16 = pcmFixture('speech-16k.s16le');
const g722 = fixture('speech.g722'); // ffmpeg's encoding of ref16
const ffDecoded = pcmFixture('speech-g722-ffdec.s16le');

function decodeAll(bytes: Uint8Array, frameBytes = 160): Int16Array {
  const d = createDecoder('G722');
  return concat(chunks(bytes, frameBytes).map((c) => d.decode(c)!.slice()));
}

function encodeAll(pcm: Int16Array, frameSamples = 320): Uint8Array {
  const e = createEncoder('G722');
  const parts: number[] = [];
  for (let i = 0; i < pcm.length; i += frameSamples) parts.push(...e.encode(pcm.subarray(i, i + frameSamples)));
  return Uint8Array.from(parts);
}

describe('G.722 (64 kbit/s)', () => {
  it('decodes bit-exactly like ffmpeg (which passes the ITU test vectors)', () => {
    const ours = decodeAll(g722);
    expect(ours.length).toBe(ffDecoded.length);
    expect(Buffer.from(ours.buffer).equals(Buffer.from(ffDecoded.buffer))).toBe(true);
  });

  it('encodes bit-exactly like ffmpeg', () => {
    expect(Buffer.from(encodeAll(ref16)).equals(Buffer.from(g722))).toBe(true);
  });

  it('frame boundaries do not matter: state carries across calls, odd lengths included', () => {
    expect(Buffer.from(decodeAll(g722, 37).buffer).equals(Buffer.from(ffDecoded.buffer))).toBe(true);
    expect(Buffer.from(encodeAll(ref16, 321)).equals(Buffer.from(g722))).toBe(true);
  });

  it('round-trips speech with high fidelity after the QMF delay', () => {
    const back = decodeAll(encodeAll(ref16));
    const { lag, corr } = alignedCorrelation(ref16, back, 64);
    expect(lag).toBe(22); // 2 × 11-sample QMF group delay (ITU-T G.722 §1.3)
    expect(corr).toBeGreaterThan(0.99);
    expect(snrDb(ref16.subarray(0, ref16.length - lag), back.subarray(lag))).toBeGreaterThan(20);
  });

  it('keeps a 1 kHz tone and a 6 kHz tone (both sub-bands) in place', () => {
    for (const hz of [1000, 6000]) {
      const tone = sine(hz, 16000, 3200);
      const back = decodeAll(encodeAll(tone));
      expect(alignedCorrelation(tone.subarray(0, 3000), back.subarray(200), 64).corr).toBeGreaterThan(0.98);
    }
  });

  it('two samples per byte; every byte value is a valid code', () => {
    const d = createDecoder('G722');
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(d.decode(all)!.length).toBe(512);
  });
});
