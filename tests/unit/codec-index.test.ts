import {
  createDecoder,
  createEncoder,
  isAmrWbAvailable,
  nativeRate,
  normalizeEncoding,
  type Encoding,
} from '../../src/media/audio/codecs';
import { AppError } from '../../src/lib/errors';
import { garbage, sine } from '../fixtures/codecs/reference';

const ALL: Encoding[] = ['PCMU', 'PCMA', 'L16', 'G722', 'OPUS', 'AMR-WB'];

describe('normalizeEncoding', () => {
  it.each([
    ['PCMU', 'PCMU'], ['pcmu', 'PCMU'], ['audio/x-mulaw', 'PCMU'], ['mulaw', 'PCMU'], ['ULAW', 'PCMU'], ['g711u', 'PCMU'],
    ['PCMA', 'PCMA'], ['alaw', 'PCMA'], ['G711A', 'PCMA'], ['audio/x-alaw', 'PCMA'],
    ['G722', 'G722'], ['g722', 'G722'],
    ['OPUS', 'OPUS'], ['audio/opus', 'OPUS'],
    ['AMR-WB', 'AMR-WB'], ['amrwb', 'AMR-WB'], ['AMR_WB', 'AMR-WB'],
    ['L16', 'L16'], ['linear16', 'L16'], ['audio/L16;rate=16000', 'L16'], ['pcm', 'L16'], [' l16 ', 'L16'],
  ])('%s → %s', (name, expected) => {
    expect(normalizeEncoding(name)).toBe(expected);
  });

  it.each(['', 'mp3', 'g729', 'toString', '__proto__'])('rejects %p', (name) => {
    expect(normalizeEncoding(name)).toBeUndefined();
  });
});

describe('nativeRate', () => {
  it('gives each codec the rate its decoder produces', () => {
    expect(nativeRate('PCMU')).toBe(8000);
    expect(nativeRate('PCMA')).toBe(8000);
    expect(nativeRate('G722')).toBe(16000);
    expect(nativeRate('AMR-WB')).toBe(16000);
    expect(nativeRate('OPUS', 48000)).toBe(16000); // decoded straight at 16 kHz, no resample
    expect(nativeRate('L16')).toBe(8000);
    expect(nativeRate('L16', 16000)).toBe(16000);
  });

  it('matches what createDecoder produces', () => {
    for (const enc of ALL) {
      if (enc === 'AMR-WB' && !isAmrWbAvailable()) continue; // codec-amrwb.test.ts fails loudly for that
      const d = createDecoder(enc, { sampleRate: enc === 'L16' ? 16000 : undefined });
      expect(d.sampleRate).toBe(nativeRate(enc, 16000));
      d.close();
    }
  });
});

describe('every decoder, on bad input', () => {
  const decoders = () => ALL.filter((e) => e !== 'AMR-WB' || isAmrWbAvailable()).map((e) => createDecoder(e));

  it('returns null for an empty payload and never throws on garbage of any size', () => {
    for (const d of decoders()) {
      expect(d.decode(new Uint8Array(0))).toBeNull();
      for (let size = 1; size < 400; size += 7) {
        expect(() => d.decode(garbage(size, size))).not.toThrow();
      }
      expect(d.decode(new Uint8Array(70000))).toBeNull();
      d.close();
    }
  });

  it('returns null after close(), and close() twice is harmless', () => {
    for (const d of decoders()) {
      d.close();
      d.close();
      expect(d.decode(new Uint8Array(160))).toBeNull();
    }
  });
});

describe('steady state', () => {
  it('reuses one output view per codec for equal-sized frames (no per-frame allocation)', () => {
    for (const enc of ['PCMU', 'PCMA', 'L16', 'G722'] as const) {
      const e = createEncoder(enc, { sampleRate: 8000 });
      const d = createDecoder(enc, { sampleRate: 8000 });
      const rate = nativeRate(enc, 8000);
      const a = e.encode(sine(440, rate, rate / 50));
      expect(e.encode(sine(660, rate, rate / 50))).toBe(a);
      const first = d.decode(a.slice());
      expect(d.decode(a.slice())).toBe(first);
    }
    const opusEncoder = createEncoder('OPUS');
    const opus = createDecoder('OPUS');
    const first = opus.decode(opusEncoder.encode(sine(440, 16000, 320)).slice());
    expect(opus.decode(opusEncoder.encode(sine(440, 16000, 320)).slice())).toBe(first);
    opus.close();
    opusEncoder.close();
  });
});

describe('createEncoder', () => {
  it('refuses AMR-WB with a typed error', () => {
    expect(() => createEncoder('AMR-WB')).toThrow(AppError);
  });

  it('rejects impossible rates', () => {
    expect(() => createDecoder('L16', { sampleRate: -1 })).toThrow(AppError);
    expect(() => createDecoder('OPUS', { sampleRate: 44100 })).toThrow(AppError);
  });
});
