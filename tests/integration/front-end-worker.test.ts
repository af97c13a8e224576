/**
 * The speech front end on worker threads (src/media/frontend): real worker threads fed through the
 * shared ring must produce exactly the endpointer events the same front end produces on this
 * thread, keep `endAfter` (stale pauses ignored) and `reset` in order with the audio, publish the
 * call's state, report the VAD counters at close, and the ring itself must wrap and refuse records
 * when full instead of overwriting unread ones.
 */
import { Endpointer, type EndpointerEvent } from '../../src/media/audio/endpointer';
import type { FrontEnd } from '../../src/media/frontend/front-end';
import { defaultFrontEndWorkers, FrontEndPool } from '../../src/media/frontend/front-end-pool';
import { createRingBuffers, OP_CLOSE, OP_PCM, RingReader, RingWriter } from '../../src/media/frontend/front-end-ring';
import type { SlotSettings } from '../../src/media/frontend/front-end-wire';
import { LocalFrontEnd } from '../../src/media/frontend/local-front-end';
import { EnergyVad } from '../../src/media/vad/energy-vad';
import type { VadStats } from '../../src/media/vad/vad';
import { loadBundledSpeech } from '../../scripts/sim/speech';
import { concat, frames, silence } from '../support/audio-signals';

jest.setTimeout(60_000);

const SETTINGS: SlotSettings = {
  highPassCutoffHz: 100,
  endpointer: { preRollMs: 300, silenceMs: 500, chunkMs: 700, partialMinMs: 300, maxUtteranceMs: 30000, pauseMs: 120 },
};

/** Two caller utterances with silence around and between them, at 8 kHz (the resampler runs too). */
function callAudio8k(): Int16Array {
  const s = loadBundledSpeech().utterances;
  const at16 = concat(silence(16000, 400), s[0]!.pcm, silence(16000, 1200), s[1]!.pcm, silence(16000, 1200));
  const out = new Int16Array(Math.floor(at16.length / 2));
  for (let i = 0; i < out.length; i += 1) out[i] = at16[2 * i]!;
  return out;
}

interface Seen {
  type: string;
  samples: number;
  audio?: number;
  pauseId?: number;
  startedAtMs?: number;
  endedAtMs?: number;
}

function record(fe: FrontEnd): Seen[] {
  const seen: Seen[] = [];
  fe.attach((e: EndpointerEvent, samples) => {
    const s: Seen = { type: e.type, samples };
    if ('audio' in e) s.audio = e.audio.length;
    if (e.type === 'pause') s.pauseId = e.pauseId;
    if (e.type === 'final') {
      s.pauseId = e.pauseId;
      s.startedAtMs = e.startedAtMs;
      s.endedAtMs = e.endedAtMs;
    }
    seen.push(s);
  });
  return seen;
}

const turn = () => new Promise<void>((r) => setImmediate(r));

/** Waits (event-driven: one event-loop turn at a time) until `cond` holds. */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise<void>((r) => setTimeout(r, 5));
}

/** Pushes 8 kHz audio as 20 ms frames, 5 frames per event-loop turn, then waits until the front end has done them. */
async function feed(fe: FrontEnd, x: Int16Array): Promise<void> {
  let n = 0;
  for (const f of frames(x, 160)) {
    fe.push(f, 8000);
    if ((n += 1) % 5 === 0) await turn();
  }
  await until(() => fe.unscoredFrames === 0);
}

function local(): LocalFrontEnd {
  const vad = new EnergyVad();
  return new LocalFrontEnd({
    highPassCutoffHz: SETTINGS.highPassCutoffHz,
    vad,
    endpointer: new Endpointer({ ...SETTINGS.endpointer, vadEndLagMs: vad.endLagMs }),
  });
}

let pool: FrontEndPool;
beforeAll(async () => {
  pool = await FrontEndPool.start({ workers: 2, vad: 'energy' });
});
afterAll(async () => {
  await pool?.close();
});

it('gives exactly the events of the same front end on this thread, for several calls at once', async () => {
  const audio = callAudio8k();
  const here = local();
  const expected = record(here);
  await feed(here, audio);
  expect(expected.filter((e) => e.type === 'final')).toHaveLength(2);
  const calls = Array.from({ length: 3 }, () => pool.open(SETTINGS)!);
  const seen = calls.map(record);
  await Promise.all(calls.map((c) => feed(c, audio)));
  for (const s of seen) {
    await until(() => s.length >= expected.length);
    expect(s).toEqual(expected);
  }
  let here0: VadStats | undefined;
  here.close((st) => (here0 = st));
  expect(here0!.frames).toBeGreaterThan(0);
  const stats = await Promise.all(calls.map((c) => new Promise<VadStats>((r) => c.close(r))));
  for (const st of stats) expect(st).toEqual(here0);
});

it('applies endAfter in order with the audio: a stale pause changes nothing, the current one ends the utterance', async () => {
  const fe = pool.open({ ...SETTINGS, endpointer: { ...SETTINGS.endpointer, silenceMs: 5000 } })!;
  const seen = record(fe);
  const s = loadBundledSpeech().utterances[0]!.pcm;
  const speech8k = new Int16Array(Math.floor(s.length / 2)).map((_, i) => s[2 * i]!);
  await feed(fe, concat(silence(8000, 300), speech8k, silence(8000, 400)));
  // Frames are counted done in the shared table before their events' message arrives: wait for the pause itself.
  await until(() => fe.currentPauseId !== undefined && seen.some((e) => e.type === 'pause' && e.pauseId === fe.currentPauseId));
  const pause = seen.filter((e) => e.type === 'pause').at(-1);
  expect(pause?.pauseId).toBeDefined();
  expect(fe.isInSpeech).toBe(true);
  expect(fe.currentPauseId).toBe(pause!.pauseId);
  // A stale pause id: nothing ends, even after more silence than it asks for.
  expect(fe.endAfter(pause!.pauseId! + 1, 100)).toEqual([]);
  await feed(fe, silence(8000, 100));
  expect(seen.some((e) => e.type === 'final')).toBe(false);
  // The current pause: 100 ms of silence has long passed, so the utterance ends at once.
  fe.endAfter(pause!.pauseId!, 100);
  await until(() => seen.some((e) => e.type === 'final'));
  expect(seen.find((e) => e.type === 'final')!.pauseId).toBe(pause!.pauseId);
  await until(() => !fe.isInSpeech);
  expect(fe.currentPauseId).toBeUndefined();
  fe.close(() => undefined);
});

it('reset drops the utterance in progress at its place in the stream', async () => {
  const fe = pool.open(SETTINGS)!;
  const seen = record(fe);
  const s = loadBundledSpeech().utterances[0]!.pcm;
  const speech8k = new Int16Array(Math.floor(s.length / 2)).map((_, i) => s[2 * i]!);
  await feed(fe, concat(silence(8000, 300), speech8k.subarray(0, 8000)));
  expect(fe.isInSpeech).toBe(true);
  fe.reset();
  await feed(fe, silence(8000, 1500));
  expect(fe.isInSpeech).toBe(false);
  expect(seen.map((e) => e.type)).not.toContain('final');
  expect(seen.map((e) => e.type)).not.toContain('discarded');
  fe.close(() => undefined);
});

it('ring: wraps records around its end, keeps order, and refuses a record when full', () => {
  const b = createRingBuffers(64, 4);
  const w = new RingWriter(b);
  const r = new RingReader(b);
  let sent = 0;
  let got = 0;
  for (let round = 0; round < 50; round += 1) {
    const len = (round * 7) % 20;
    const pcm = Int16Array.from({ length: len }, (_, i) => round * 100 + i);
    expect(w.write(OP_PCM, round % 4, round, round * 3, 70000 + round, pcm)).toBe(true);
    sent += 1;
    const rec = r.peek()!;
    expect([rec.op, rec.slot, rec.gen, rec.a, rec.b]).toEqual([OP_PCM, round % 4, round, round * 3, 70000 + round]);
    expect(Array.from(rec.pcm)).toEqual(Array.from(pcm));
    r.consume();
    got += 1;
  }
  expect(got).toBe(sent);
  expect(r.peek()).toBeUndefined();
  // Unread records are never overwritten: the writer says no instead.
  let accepted = 0;
  while (w.write(OP_CLOSE, 1, 1, 0, 0, new Int16Array(8))) accepted += 1;
  // 64 words, 16 per record, one word kept free, and a wrap may skip the tail: 2 or 3 fit.
  expect(accepted).toBeGreaterThanOrEqual(2);
  expect(accepted).toBeLessThanOrEqual(3);
  for (let i = 0; i < accepted; i += 1) {
    expect(r.peek()?.op).toBe(OP_CLOSE);
    r.consume();
  }
  expect(r.peek()).toBeUndefined();
});

it('by default runs one worker per core but one, leaving a core to the main thread (at least one worker)', () => {
  expect([1, 2, 4, 8].map((cores) => defaultFrontEndWorkers(cores))).toEqual([1, 1, 3, 7]);
});
