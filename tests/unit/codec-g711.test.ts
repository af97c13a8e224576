import { alaw, mulaw } from 'alawmulaw';
import { createDecoder, createEncoder, g711DecodeSample, g711EncodeSample } from '../../src/media/audio/codecs';
import { chunks, concat, fixture, pcmFixture, snrDb } from '../fixtures/codecs/reference';

const ref8 = pcmFixture('speech-8k.s16le');
const CASES = [
  { enc: 'PCMU' as const, file: 'speech.pcmu', impl: mulaw },
  { enc: 'PCMA' as const, file: 'speech.pcma', impl: alaw },
];

describe.each(CASES)('$enc', ({ enc, file, impl }) => {
  it('decodes ffmpeg-encoded speech to within G.711 quantization noise (SNR > 30 dB)', () => {
    const d = createDecoder(enc);
    const out = concat(chunks(fixture(file), 160).map((c) => d.decode(c)!.slice()));
    expect(out.length).toBe(ref8.length);
    expect(snrDb(ref8, out)).toBeGreaterThan(30);
  });

  it('tables equal the alawmulaw reference for every code and every 16-bit sample', () => {
    for (let code = 0; code < 256; code += 1) expect(g711DecodeSample(enc, code)).toBe(impl.decodeSample(code) + 0); // + 0: alawmulaw returns −0
    let mismatches = 0;
    for (let x = -32768; x < 32768; x += 1) if (g711EncodeSample(enc, x) !== (impl.encodeSample(x) & 0xff)) mismatches += 1;
    expect(mismatches).toBe(0);
  });

  it('encodes like ffmpeg up to rounding at decision boundaries (adjacent codes only)', () => {
    const e = createEncoder(enc);
    const ours = new Uint8Array(ref8.length);
    for (let i = 0; i < ref8.length; i += 160) ours.set(e.encode(ref8.subarray(i, i + 160)), i);
    const theirs = fixture(file);
    let differ = 0;
    for (let i = 0; i < ours.length; i += 1) {
      if (ours[i] === theirs[i]) continue;
      differ += 1;
      const a = g711DecodeSample(enc, ours[i]!);
      const b = g711DecodeSample(enc, theirs[i]!);
      // Adjacent levels: the two reconstructions bracket the input.
      expect(Math.min(a, b) <= ref8[i]! + 8 && Math.max(a, b) >= ref8[i]! - 8).toBe(true);
    }
    expect(differ / ours.length).toBeLessThan(0.1);
    const d = createDecoder(enc);
    expect(snrDb(ref8, d.decode(ours)!)).toBeGreaterThan(snrDb(ref8, d.decode(theirs)!) - 0.5);
  });

  it('round-trips through our own decoder, any frame length', () => {
    const e = createEncoder(enc);
    const d = createDecoder(enc);
    for (const n of [1, 80, 160, 161, 2400]) {
      const out = d.decode(e.encode(ref8.subarray(0, n)))!;
      expect(out.length).toBe(n);
    }
    expect(e.encode(new Int16Array(0)).length).toBe(0);
  });
});
