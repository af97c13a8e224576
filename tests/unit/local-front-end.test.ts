/**
 * LocalFrontEnd's rates: the high-pass runs at the codec's rate (or after resampling when its
 * cutoff is at or above that rate's Nyquist), a VAD built for the codec's rate scores the audio as
 * it arrives while a 16 kHz VAD scores the resampled audio, the endpointer always gets 16 kHz,
 * and a codec change mid-call replaces a VAD that cannot take the new rate (counters kept).
 */
import { Endpointer } from '../../src/media/audio/endpointer';
import { LocalFrontEnd, type LocalFrontEndDeps } from '../../src/media/frontend/local-front-end';
import type { Vad, VadStats } from '../../src/media/vad/vad';
import { concat, db, frames, sine, speechLike, toneAmplitude } from '../support/audio-signals';

/** A VAD that records what it is pushed and calls the audio speech when it is loud. */
class RecordingVad implements Vad {
  readonly kind = 'energy' as const;
  readonly frameSamples: number;
  readonly endLagMs = 0;
  readonly stats: VadStats = { frames: 0, inferred: 0, gated: 0, dropped: 0 };
  readonly pushed: number[] = [];
  disposed = false;

  constructor(readonly sampleRate: number) {
    this.frameSamples = sampleRate / 50;
  }

  push(pcm: Int16Array): number {
    this.pushed.push(pcm.length);
    this.stats.frames += 1;
    let peak = 0;
    for (const v of pcm) peak = Math.max(peak, Math.abs(v));
    return peak > 2000 ? 0.9 : 0.05;
  }

  reset(): void {}

  dispose(): void {
    this.disposed = true;
  }
}

const ENDPOINTER = { preRollMs: 200, silenceMs: 300, chunkMs: 60_000, partialMinMs: 60_000, pauseMs: 0 };

function frontEnd(vad: LocalFrontEndDeps['vad'], cutoff: number | null = null) {
  const taps: Int16Array[] = [];
  const fe = new LocalFrontEnd({ highPassCutoffHz: cutoff, vad, endpointer: new Endpointer(ENDPOINTER), tap: (f) => taps.push(f.slice()) });
  return { fe, taps };
}

it('scores 8 kHz audio with a VAD made for 8 kHz as it arrives, and still gives the endpointer 16 kHz', () => {
  const made: RecordingVad[] = [];
  const { fe, taps } = frontEnd((rate) => {
    const v = new RecordingVad(rate === 8000 ? 8000 : 16000);
    made.push(v);
    return v;
  });
  const finals: number[] = [];
  fe.attach((e) => {
    if (e.type === 'final') finals.push(e.audio.length);
  });
  const call = concat(speechLike(8000, 600), new Int16Array(8000 / 2));
  for (const f of frames(call, 160)) fe.push(f, 8000);
  expect(made).toHaveLength(1); // made once, at the first frame
  expect(made[0]!.pushed.every((n) => n === 160)).toBe(true); // 20 ms at 8 kHz, not resampled
  expect(taps.every((t) => t.length === 320)).toBe(true); // the STT side is 16 kHz
  expect(finals).toHaveLength(1);
  expect(fe.streamSamples).toBe((call.length / 160) * 320);
});

it('gives a 16 kHz VAD (a fixed instance) the resampled audio', () => {
  const vad = new RecordingVad(16000);
  const { fe } = frontEnd(vad);
  for (const f of frames(speechLike(8000, 200), 160)) fe.push(f, 8000);
  expect(vad.pushed.length).toBe(10);
  expect(vad.pushed.every((n) => n === 320)).toBe(true);
});

it('replaces a VAD that cannot take the new rate after a codec change, and reports both counters at close', () => {
  const made: RecordingVad[] = [];
  const { fe } = frontEnd((rate) => {
    const v = new RecordingVad(rate === 8000 ? 8000 : 16000);
    made.push(v);
    return v;
  });
  for (const f of frames(speechLike(8000, 100), 160)) fe.push(f, 8000); // 5 frames
  for (const f of frames(speechLike(48000, 100), 960)) fe.push(f, 48000); // 5 frames (e.g. Opus)
  expect(made.map((v) => v.sampleRate)).toEqual([8000, 16000]);
  expect(made[1]!.pushed.every((n) => n === 320)).toBe(true);
  // A replaced Silero VAD still scores its backlog after the change: those frames count too.
  made[0]!.stats.frames += 2;
  made[0]!.stats.dropped += 1;
  let stats: VadStats | undefined;
  fe.close((s) => (stats = s));
  expect(stats).toMatchObject({ frames: 12, dropped: 1 });
  expect(made.every((v) => v.disposed)).toBe(true);
});

it('high-passes 8 kHz audio before resampling without writing to the caller’s buffer; a cutoff above 4 kHz filters at 16 kHz', () => {
  // 50 Hz hum plus a 1 kHz tone: the 100 Hz cutoff removes the hum (≥ 20 dB) and keeps the tone.
  const input = new Int16Array(8000);
  const hum = sine(8000, 50, 1000, 8000);
  const tone = sine(8000, 1000, 1000, 4000);
  for (let i = 0; i < input.length; i += 1) input[i] = hum[i]! + tone[i]!;
  const original = input.slice();
  const { fe, taps } = frontEnd(() => new RecordingVad(8000), 100);
  for (const f of frames(input, 160)) fe.push(f, 8000);
  expect(input).toEqual(original);
  const out = concat(...taps).subarray(16000 / 2); // after the filter has settled
  expect(db(toneAmplitude(out, 16000, 50) / 8000)).toBeLessThan(-20);
  expect(db(toneAmplitude(out, 16000, 1000) / 4000)).toBeGreaterThan(-1);

  // STT_HIGHPASS_CUTOFF_HZ may be 4000, the 8 kHz Nyquist: then the 16 kHz filter runs (no throw).
  const high = frontEnd(() => new RecordingVad(8000), 4000);
  for (const f of frames(input, 160)) high.fe.push(f, 8000);
  const outHigh = concat(...high.taps).subarray(8000);
  expect(db(toneAmplitude(outHigh, 16000, 1000) / 4000)).toBeLessThan(-20);
});
