import OpusScript from 'opusscript';
import { AppError } from '../../src/lib/errors';
import { createDecoder, createEncoder, type Decoder } from '../../src/media/audio/codecs';
import { alignedCorrelation, concat, fixture, oggOpusPackets, pcmFixture } from '../fixtures/codecs/reference';

const ref16 = pcmFixture('speech-16k.s16le');
const packets = oggOpusPackets(fixture('speech.opus')); // libopus (via ffmpeg), 20 ms, 24 kbit/s

const decodeAll = (d: Decoder, ps: Uint8Array[]) => concat(ps.map((p) => d.decode(p)!.slice()));

describe('Opus', () => {
  it('decodes one 20 ms packet per message straight to 16 kHz', () => {
    const d = createDecoder('OPUS');
    expect(d.sampleRate).toBe(16000);
    expect(d.decode(packets[0]!)!.length).toBe(320);
    d.close();
  });

  it('decodes libopus speech faithfully (correlation > 0.9 after the 6.5 ms pre-skip)', () => {
    const d = createDecoder('OPUS');
    const out = decodeAll(d, packets);
    const { lag, corr } = alignedCorrelation(ref16, out, 800);
    expect(lag).toBe(104); // OpusHead pre-skip 312 samples at 48 kHz
    expect(corr).toBeGreaterThan(0.9);
    d.close();
  });

  it('produces exactly what opusscript itself decodes', () => {
    const d = createDecoder('OPUS');
    const reference = new OpusScript(16000, 1);
    for (const p of packets) {
      const theirs = reference.decode(Buffer.from(p));
      const ours = d.decode(p)!;
      expect(Buffer.from(ours.buffer, ours.byteOffset, ours.byteLength).equals(theirs)).toBe(true); // both little-endian here
    }
    reference.delete();
    d.close();
  });

  it('keeps working after hundreds of codecs grow the WASM heap (opusscript instances break)', () => {
    const first = createDecoder('OPUS');
    const expected = decodeAll(createDecoder('OPUS'), packets.slice(0, 5));
    const many = Array.from({ length: 400 }, () => createDecoder('OPUS'));
    expect(Array.from(decodeAll(first, packets.slice(0, 5)))).toEqual(Array.from(expected));
    for (const d of many) d.close();
    first.close();
  });

  it('decodes at 48 kHz when asked', () => {
    const d = createDecoder('OPUS', { sampleRate: 48000 });
    expect(d.decode(packets[3]!)!.length).toBe(960);
    d.close();
  });

  it('returns null for malformed packets instead of throwing', () => {
    const d = createDecoder('OPUS');
    expect(d.decode(Uint8Array.of(0x03))).toBeNull(); // code-3 packet without its frame-count byte
    expect(d.decode(Uint8Array.of(0x03, 0x00))).toBeNull(); // code-3 packet with zero frames
    expect(d.decode(new Uint8Array(5000))).toBeNull(); // beyond the largest legal packet
    d.close();
  });

  it('encodes 20 ms frames that decode back to the speech', () => {
    const e = createEncoder('OPUS');
    const d = createDecoder('OPUS');
    const out: Int16Array[] = [];
    for (let i = 0; i + 320 <= ref16.length; i += 320) out.push(d.decode(e.encode(ref16.subarray(i, i + 320)).slice())!.slice());
    expect(alignedCorrelation(ref16, concat(out), 800).corr).toBeGreaterThan(0.9);
    expect(() => e.encode(new Int16Array(100))).toThrow(AppError);
    e.close();
    d.close();
  });
});
