import { createDecoder, type Encoding } from '../../src/media/audio/codecs';
import { concat, sine, toneAmplitude } from '../support/audio-signals';
import { setup } from './playout-harness';

/** Plays `segments` to the end and returns each media message decoded, in order. */
function playAndDecode(encoding: Encoding, codecRate: number, messageMs: number, ...segments: { id: string; samples: Int16Array; sampleRate: number }[]) {
  const s = setup({ encoding, codecRate, messageMs });
  for (const seg of segments) s.p.enqueue(seg);
  s.time.advance(60_000);
  const dec = createDecoder(encoding, { sampleRate: codecRate });
  const msgs = s.wire().flatMap((w) => (w.event === 'media' ? [dec.decode(w.bytes)!.slice()] : []));
  return { msgs, pcm: concat(...msgs), marks: s.wire().filter((w) => w.event === 'mark').map((w) => (w.event === 'mark' ? w.name : '')) };
}

describe('StreamPlayout encoding', () => {
  it('1 s of 24 kHz TTS → 8000 PCMU samples (±1 frame) carrying the same tone, in 60 ms messages', () => {
    const { msgs, pcm } = playAndDecode('PCMU', 8000, 60, { id: 'a', samples: sine(24000, 440, 1000, 12000), sampleRate: 24000 });
    expect(Math.abs(pcm.length - 8000)).toBeLessThanOrEqual(160);
    expect(toneAmplitude(pcm.subarray(400, 7600), 8000, 440)).toBeGreaterThan(11000);
    expect(msgs.slice(0, -1).every((m) => m.length === 480)).toBe(true);
    expect(msgs.at(-1)!.length).toBeGreaterThanOrEqual(160);
  });

  it.each([20, 40, 60, 80, 100])('every message holds 20..%i ms of audio (whole 20 ms frames)', (messageMs) => {
    const { msgs } = playAndDecode('PCMA', 8000, messageMs, { id: 'a', samples: sine(22050, 300, 1234, 8000), sampleRate: 22050 });
    for (const m of msgs) {
      expect(m.length % 160).toBe(0);
      expect(m.length).toBeGreaterThanOrEqual(160);
      expect(m.length).toBeLessThanOrEqual(messageMs * 8);
    }
  });

  it('mixed source rates keep order, length and marks (one resampler per rate)', () => {
    const a = { id: 'a', samples: sine(24000, 500, 500, 10000), sampleRate: 24000 };
    const b = { id: 'b', samples: sine(16000, 1000, 500, 10000), sampleRate: 16000 };
    const c = { id: 'c', samples: sine(8000, 700, 500, 10000), sampleRate: 8000 };
    const { pcm, marks } = playAndDecode('PCMU', 8000, 100, a, b, c);
    expect(pcm.length).toBe(12000);
    expect(marks).toEqual(['a', 'b', 'c']);
    expect(toneAmplitude(pcm.subarray(400, 3600), 8000, 500)).toBeGreaterThan(9000);
    expect(toneAmplitude(pcm.subarray(4400, 7600), 8000, 1000)).toBeGreaterThan(9000);
    expect(toneAmplitude(pcm.subarray(8400, 11600), 8000, 700)).toBeGreaterThan(9000);
  });

  it('G.722: 1 s of 24 kHz → 16 000 samples at 16 kHz', () => {
    const { pcm } = playAndDecode('G722', 16000, 60, { id: 'a', samples: sine(24000, 440, 1000, 12000), sampleRate: 24000 });
    expect(Math.abs(pcm.length - 16000)).toBeLessThanOrEqual(320);
    expect(toneAmplitude(pcm.subarray(1600, 14400), 16000, 440)).toBeGreaterThan(8000);
  });

  it('L16 at 16 kHz round-trips exactly when the source is already at the codec rate', () => {
    const x = sine(16000, 440, 300, 12000);
    const { pcm } = playAndDecode('L16', 16000, 100, { id: 'a', samples: x, sampleRate: 16000 });
    expect(pcm).toEqual(x);
  });

  it('OPUS: one 20 ms packet per message', () => {
    const { msgs } = playAndDecode('OPUS', 16000, 20, { id: 'a', samples: sine(24000, 440, 500, 12000), sampleRate: 24000 });
    expect(msgs).toHaveLength(25);
    for (const m of msgs) expect(m.length).toBe(320);
  });
});
