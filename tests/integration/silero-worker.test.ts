/**
 * Silero on a worker thread (silero-remote.ts): the real model in a real worker, fed the bundled
 * caller speech the way calls feed it, must give the same verdicts as the in-thread SileroVad,
 * keep streams independent, free worker-side state, bound how far a stream can fall behind, and
 * keep calls listening (energy VAD) if the worker dies.
 */
import { EnergyVad } from '../../src/media/vad/energy-vad';
import { sharedSileroModel } from '../../src/media/vad/silero-model';
import { SileroWorkerClient } from '../../src/media/vad/silero-remote';
import { SileroVad } from '../../src/media/vad/silero-vad';
import { createVadFactory } from '../../src/media/vad/vad-factory';
import type { Vad } from '../../src/media/vad/vad';
import { loadBundledSpeech } from '../../scripts/sim/speech';
import { concat, frames, silence } from '../support/audio-signals';

jest.setTimeout(60_000);

/** Speech framed as a call sends it (20 ms), with silence around it. */
function callAudio(index: number): Int16Array {
  return concat(silence(16000, 400), loadBundledSpeech().utterances[index]!.pcm, silence(16000, 800));
}

/** Every 20 ms frame's verdict, 100 ms of frames per event-loop turn (a call's frames, a little bunched). */
async function verdicts(vad: Vad, x: Int16Array): Promise<number[]> {
  const all = [...frames(x, 320)];
  const out: number[] = [];
  for (let i = 0; i < all.length; i += 5) out.push(...(await Promise.all(all.slice(i, i + 5).map((f) => vad.push(f)))));
  return out;
}

let client: SileroWorkerClient;

beforeAll(async () => {
  client = await SileroWorkerClient.start({ model: {}, vad: {} });
});
afterAll(async () => {
  await client?.close();
});

it('gives the same verdicts as the in-thread detector, and detects the speech', async () => {
  const audio = callAudio(0);
  const local = await verdicts(new SileroVad(await sharedSileroModel()), audio);
  const remote = await verdicts(client.createVad(), audio);
  expect(remote).toHaveLength(local.length);
  for (let i = 0; i < local.length; i += 1) expect(remote[i]).toBeCloseTo(local[i]!, 3);
  const speechFrames = remote.filter((p) => p >= 0.5).length;
  // The utterance is ~2.5 s: most of its 20 ms frames are speech, the silence around it is not.
  expect(speechFrames).toBeGreaterThan(50);
  expect(remote.slice(0, 15).every((p) => p < 0.5)).toBe(true);
});

it('keeps concurrent streams independent and counts their frames', async () => {
  const a = client.createVad();
  const b = client.createVad();
  const speech = callAudio(1);
  const quiet = silence(16000, speech.length / 16);
  const fa = [...frames(speech, 320)];
  const fb = [...frames(quiet, 320)];
  const pa: number[] = [];
  const pb: number[] = [];
  for (let i = 0; i < fa.length; i += 1) {
    const [x, y] = await Promise.all([a.push(fa[i]!), b.push(fb[i]!)]);
    pa.push(x);
    pb.push(y);
  }
  expect(pa.some((p) => p >= 0.5)).toBe(true);
  expect(pb.every((p) => p < 0.5)).toBe(true);
  expect(a.stats.inferred).toBeGreaterThan(0);
  expect(b.stats.gated).toBeGreaterThan(0);
  expect(b.stats.inferred).toBe(0);
  expect(a.stats.dropped + b.stats.dropped).toBe(0);
});

it('frees the worker-side stream when a call ends', async () => {
  const before = client.activeStreams;
  const v = client.createVad();
  expect(client.activeStreams).toBe(before + 1);
  await v.push(new Int16Array(1024));
  v.dispose!();
  expect(client.activeStreams).toBe(before);
  // A late push after the end is answered, not queued.
  expect(v.push(new Int16Array(320))).toBe(0);
});

it('restarts a stream that falls too far behind instead of queueing without bound', async () => {
  const small = await SileroWorkerClient.start({ model: {}, vad: {}, maxBehindMs: 200 });
  try {
    const v = small.createVad();
    // 2 s pushed in one loop turn: nothing is scored yet, so the stream is > 200 ms behind.
    const rs = [...frames(callAudio(2).subarray(0, 32000), 320)].map((f) => v.push(f));
    await Promise.all(rs);
    expect(v.stats.dropped).toBeGreaterThan(0);
    expect(small.activeStreams).toBe(1);
  } finally {
    await small.close();
  }
});

it('falls back to the energy VAD on live streams when the worker is gone', async () => {
  const c = await SileroWorkerClient.start({ model: {}, vad: {} });
  const v = c.createVad();
  const pending = v.push(new Int16Array(600));
  await c.close();
  await expect(Promise.resolve(pending)).resolves.toEqual(expect.any(Number));
  expect(c.dead).toBe(true);
  // Energy VAD: synchronous and still hears speech.
  const probs = [...frames(callAudio(0), 320)].map((f) => v.push(f));
  expect(probs.every((p) => typeof p === 'number')).toBe(true);
  expect((probs as number[]).some((p) => p === 1)).toBe(true);
  expect(new EnergyVad().kind).toBe('energy');
});

it('the factory runs Silero on the worker thread by default', async () => {
  const f = await createVadFactory({ mode: 'silero' });
  try {
    expect(f).toMatchObject({ mode: 'silero', thread: 'worker', fellBack: false });
    const p = await verdicts(f.create(), callAudio(0));
    expect(p.some((x) => x >= 0.5)).toBe(true);
  } finally {
    await f.close();
  }
});
