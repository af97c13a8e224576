import type { Decoder } from '../../src/media/audio/codecs';
import { OpusEncoder } from '../../src/media/audio/codecs/opus';
import { createDecoder } from '../../src/media/audio/codecs';
import type { InboundAudioSink } from '../../src/media/ports';
import { RtpAudioInput } from '../../src/media/webrtc/rtp-audio-input';

/** A decoder whose "PCM" is the payload's first byte repeated: shows which packet came out where. */
function markerDecoder(): Decoder & { closed: boolean } {
  return {
    encoding: 'OPUS',
    sampleRate: 48000,
    closed: false,
    decode: (p: Uint8Array) => (p[0] === 0 ? null : new Int16Array(960).fill(p[0]!)),
    close() {
      this.closed = true;
    },
  };
}

function sink() {
  const frames: number[] = [];
  const s: InboundAudioSink & { frames: number[]; rates: Set<number> } = {
    frames,
    rates: new Set(),
    pushPcm(pcm, rate) {
      // No test here plays this much: an unbounded fill loop fails instead of hanging the run.
      if (frames.length >= 10_000) throw new Error('unbounded: more than 10000 frames pushed');
      frames.push(pcm[0]!);
      s.rates.add(rate);
      expect(pcm.length).toBe(960);
    },
    close() {},
  };
  return s;
}

const pkt = (seq: number, value: number, timestamp = seq * 960) => ({ seq: seq & 0xffff, timestamp: timestamp >>> 0, payload: new Uint8Array([value]) });

describe('RtpAudioInput', () => {
  it('passes in-order packets straight through at 48 kHz', () => {
    const s = sink();
    const input = new RtpAudioInput(markerDecoder(), s);
    for (let i = 0; i < 3; i += 1) input.push(pkt(10 + i, i + 1));
    expect(s.frames).toEqual([1, 2, 3]);
    expect([...s.rates]).toEqual([48000]);
  });

  it('restores order within the window and fills a lost packet with silence of its length', () => {
    const s = sink();
    const input = new RtpAudioInput(markerDecoder(), s);
    input.push(pkt(1, 1));
    input.push(pkt(3, 3));
    input.push(pkt(2, 2));
    expect(s.frames).toEqual([1, 2, 3]);
    input.push(pkt(5, 5)); // 4 never comes: 5 and 6 wait for it (60 ms)…
    input.push(pkt(6, 6));
    expect(s.frames).toEqual([1, 2, 3]);
    input.push(pkt(7, 7)); // …until the window is full
    expect(s.frames).toEqual([1, 2, 3, 0, 5, 6, 7]);
    expect(input.stats.lost).toBe(1);
  });

  it('unwraps the 16-bit sequence number', () => {
    const s = sink();
    const input = new RtpAudioInput(markerDecoder(), s);
    input.push(pkt(65534, 1));
    input.push(pkt(65535, 2));
    input.push(pkt(65536, 3));
    input.push(pkt(65537, 4));
    expect(s.frames).toEqual([1, 2, 3, 4]);
    expect(input.stats.resyncs).toBe(0);
  });

  it('keeps time through a DTX pause (consecutive packets, later timestamp)', () => {
    const s = sink();
    const input = new RtpAudioInput(markerDecoder(), s);
    input.push(pkt(1, 1, 0));
    input.push(pkt(2, 2, 960 * 6)); // 5 frames of silence were not sent
    expect(s.frames).toEqual([1, 0, 0, 0, 0, 0, 2]);
    expect(input.stats.dtxFilledFrames).toBe(5);
  });

  it('resyncs on a jump to a new stream instead of filling thousands of frames', () => {
    const s = sink();
    const input = new RtpAudioInput(markerDecoder(), s);
    input.push(pkt(1, 1));
    input.push(pkt(30000, 2, 5));
    input.push(pkt(30001, 3, 965));
    expect(s.frames).toEqual([1, 2, 3]);
    expect(input.stats.resyncs).toBe(1);
  });

  it('a stream that jumps back across the 16-bit wrap from near 0 resyncs and keeps playing', () => {
    const s = sink();
    const input = new RtpAudioInput(markerDecoder(), s);
    input.push(pkt(10, 1, 0));
    // 65336 is 200 behind 10 across the wrap: a new stream, numbered below the first one's start.
    for (const [i, seq] of [65336, 65337, 65338].entries()) input.push(pkt(seq, 2 + i, (i + 1) * 960));
    expect(s.frames).toEqual([1, 2, 3, 4]);
    expect(input.stats.resyncs).toBe(1);
  });

  it('turns an undecodable packet into one frame of silence', () => {
    const s = sink();
    const input = new RtpAudioInput(markerDecoder(), s);
    input.push(pkt(1, 1));
    input.push(pkt(2, 0));
    input.push(pkt(3, 3));
    expect(s.frames).toEqual([1, 0, 3]);
    expect(input.stats.decodeFailed).toBe(1);
  });

  it('decodes real Opus packets to 20 ms at 48 kHz, and closes its decoder', () => {
    const enc = new OpusEncoder(48000);
    const tone = new Int16Array(960).map((_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 1000 * i) / 48000)));
    const got: number[] = [];
    const dec = createDecoder('OPUS', { sampleRate: 48000 });
    const input = new RtpAudioInput(dec, { pushPcm: (p) => got.push(p.length), close() {} });
    for (let i = 0; i < 5; i += 1) input.push({ seq: i, timestamp: i * 960, payload: Uint8Array.from(enc.encode(tone)) });
    enc.close();
    expect(got).toEqual([960, 960, 960, 960, 960]);
    input.close();
    expect(dec.decode(new Uint8Array([0xf8, 0xff, 0xfe]))).toBeNull();
  });
});
