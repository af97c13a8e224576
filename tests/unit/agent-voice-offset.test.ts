/** Resuming a reply where it was cut: the part of a segment's audio from an offset on. */
import { fromOffset } from '../../src/media/conversation/agent-voice';

describe('fromOffset', () => {
  const samples = Int16Array.from({ length: 8000 }, (_, i) => i % 100); // 1 s at 8 kHz

  it('skips the audio before the offset, sharing the buffer', () => {
    const rest = fromOffset(samples, 8000, 250);
    expect(rest.length).toBe(6000);
    expect(rest[0]).toBe(samples[2000]);
    expect(rest.buffer).toBe(samples.buffer);
  });

  it('plays everything without an offset, and nothing past the end', () => {
    expect(fromOffset(samples, 8000, undefined)).toBe(samples);
    expect(fromOffset(samples, 8000, -5)).toBe(samples);
    expect(fromOffset(samples, 8000, 5000).length).toBe(0);
  });
});
