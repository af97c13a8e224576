import { alaw } from 'alawmulaw';
import { AppError } from '../../src/lib/errors';
import { L16Decoder, L16_RATES, createDecoder, createEncoder, type L16ByteOrder } from '../../src/media/audio/codecs';
import { concat, garbage, pcmFixture, sine } from '../fixtures/codecs/reference';

const speech16 = pcmFixture('speech-16k.s16le');
const speech8 = pcmFixture('speech-8k.s16le');

describe('L16', () => {
  it('is big-endian (RFC 3551 network order) by default', () => {
    const d = createDecoder('L16');
    expect(Array.from(d.decode(Uint8Array.of(0x12, 0x34, 0xff, 0xfe, 0x80, 0x00))!)).toEqual([0x1234, -2, -32768]);
    expect(Array.from(createEncoder('L16').encode(Int16Array.of(0x1234, -2)))).toEqual([0x12, 0x34, 0xff, 0xfe]);
  });

  it('reads and writes little-endian when told to', () => {
    const d = createDecoder('L16', { l16ByteOrder: 'le' });
    expect(Array.from(d.decode(Uint8Array.of(0x34, 0x12, 0xfe, 0xff))!)).toEqual([0x1234, -2]);
    const e = createEncoder('L16', { l16ByteOrder: 'le' });
    expect(Array.from(e.encode(Int16Array.of(0x1234, -2)))).toEqual([0x34, 0x12, 0xfe, 0xff]);
  });

  it('round-trips exactly at the stream rate', () => {
    const e = createEncoder('L16', { sampleRate: 16000 });
    const d = createDecoder('L16', { sampleRate: 16000 });
    expect(d.sampleRate).toBe(16000);
    expect(Array.from(d.decode(e.encode(speech16))!)).toEqual(Array.from(speech16));
  });

  it('runs only at the rates Telnyx streams L16 at (8/16/22.05/24/48 kHz)', () => {
    expect([...L16_RATES]).toEqual([8000, 16000, 22050, 24000, 48000]);
    for (const sampleRate of L16_RATES) {
      expect(createDecoder('L16', { sampleRate }).sampleRate).toBe(sampleRate);
      expect(createEncoder('L16', { sampleRate }).sampleRate).toBe(sampleRate);
    }
    // A peer-chosen rate would size resampler filter banks (1600003 Hz: hundreds of MB): refused.
    for (const sampleRate of [1, 1600003, 44100, 11025, 32000, 0, 8000.5, Number.MAX_SAFE_INTEGER]) {
      expect(() => createDecoder('L16', { sampleRate })).toThrow(AppError);
      expect(() => createEncoder('L16', { sampleRate })).toThrow(AppError);
    }
  });

  it('rejects odd-length payloads (half a sample)', () => {
    expect(createDecoder('L16').decode(new Uint8Array(321))).toBeNull();
  });
});

/** Streams `pcm` as 20 ms L16 frames in `order` through an 'auto' decoder. */
function streamAuto(pcm: Int16Array, rate: number, order: L16ByteOrder) {
  const e = createEncoder('L16', { sampleRate: rate, l16ByteOrder: order });
  const d = createDecoder('L16', { sampleRate: rate, l16ByteOrder: 'auto' }) as L16Decoder;
  const frame = rate / 50;
  const out: Int16Array[] = [];
  let decidedAfter = -1;
  for (let i = 0; i + frame <= pcm.length; i += frame) {
    out.push(d.decode(e.encode(pcm.subarray(i, i + frame)).slice())!.slice());
    if (decidedAfter < 0 && d.byteOrder) decidedAfter = out.length;
  }
  return { pcm: concat(out), order: d.byteOrder, decidedAfter };
}

const whiteNoise = (amplitude: number, n: number): Int16Array => {
  const g = garbage(n, amplitude);
  return Int16Array.from(g, (b) => Math.round(((b - 127.5) / 127.5) * amplitude));
};

describe("L16 byte order 'auto'", () => {
  describe.each(['be', 'le'] as const)('stream sent %s', (order) => {
    it.each([
      ['speech at 16 kHz', speech16, 16000],
      ['speech at 8 kHz', speech8, 8000],
      ['speech that went through A-law on the PSTN', alaw.decode(alaw.encode(speech8)), 8000],
      ['quiet speech (−36 dB)', speech16.map((v) => v >> 6), 16000],
      ['background noise', whiteNoise(300, 8000), 8000],
      ['a loud 3.9 kHz tone', sine(3900, 8000, 8000, 32000), 8000],
      ['a 440 Hz tone', sine(441, 8000, 8000, 12000), 8000],
    ])('%s: decides within 100 ms and every frame comes out right', (_name, pcm, rate) => {
      const got = streamAuto(pcm as Int16Array, rate as number, order);
      expect(got.order).toBe(order);
      expect(got.decidedAfter).toBeLessThanOrEqual(5);
      expect(Array.from(got.pcm)).toEqual(Array.from((pcm as Int16Array).subarray(0, got.pcm.length)));
    });

    it('stays undecided on digital silence and outputs it unchanged', () => {
      const got = streamAuto(new Int16Array(8000), 8000, order);
      expect(got.order).toBeUndefined();
      expect(got.pcm.every((v) => v === 0)).toBe(true);
    });

    it('does not decide on signals that are ambiguous by construction', () => {
      const square = Int16Array.from(sine(500, 8000, 8000), (v) => (v >= 0 ? 30000 : -30000));
      const quarterRate = Int16Array.from({ length: 8000 }, (_, i) => [0, 32000, 0, -32000][i % 4]!);
      expect(streamAuto(square, 8000, order).order).toBeUndefined();
      expect(streamAuto(quarterRate, 8000, order).order).toBeUndefined();
      expect(streamAuto(whiteNoise(30000, 8000), 8000, order).order).toBeUndefined();
    });

    it('decides once real audio follows undecidable audio', () => {
      const got = streamAuto(concat([new Int16Array(1600), whiteNoise(30000, 1600), speech8]), 8000, order);
      expect(got.order).toBe(order);
    });
  });
});
