/**
 * bench:frontend — cost of the inbound audio front end per 20 ms frame (docs/design.md §Bars: ≥ 500 calls on
 * 2 cores → 25,000 frames/s; the JS thread has ~40 µs per frame for everything, network included).
 * Prints µs per 20 ms frame for each stage, Silero cost per inference (alone and batched across
 * calls), the energy gate's skip ratio on silence/noise, and memory per call pipeline.
 * Synthetic signals only; runs in a few seconds and exits by itself (hard stop at 30 s).
 * Usage: npx tsx scripts/bench/frontend.ts [--frames 10000]
 */
import { Endpointer } from '../../src/media/audio/endpointer';
import { EnergyVad } from '../../src/media/vad/energy-vad';
import { HighPassFilter } from '../../src/media/audio/highpass';
import { StreamingResampler } from '../../src/media/audio/resampler';
import { SileroModel } from '../../src/media/vad/silero-model';
import { SileroVad } from '../../src/media/vad/silero-vad';
import { concat, mix, pinkNoise, silence, speechLike, whiteNoise } from '../../tests/support/audio-signals';
import { parseArgs } from '../lib/stats';

const HARD_STOP_MS = 30_000;
setTimeout(() => {
  console.error(`bench:frontend: hard stop after ${HARD_STOP_MS} ms`);
  process.exit(2);
}, HARD_STOP_MS).unref();

const args = parseArgs(process.argv.slice(2));
const FRAMES = Number(args.frames ?? 10_000);
const WARMUP = 500;

/** `frames` 20 ms frames of `signal` at `rate` (looping), as views. */
function frameList(signal: Int16Array, rate: number, count: number): Int16Array[] {
  const size = rate / 50;
  const n = Math.floor(signal.length / size);
  return Array.from({ length: count }, (_, i) => signal.subarray((i % n) * size, (i % n) * size + size));
}

/**
 * µs per call of `fn`: the frames are timed in 5 blocks after a warm-up and the median block mean is
 * reported, so a burst from another process on a shared box does not dominate the figure.
 */
function timeSync(frames: Int16Array[], fn: (f: Int16Array, i: number) => unknown): number {
  for (let i = 0; i < WARMUP; i += 1) fn(frames[i % frames.length]!, i);
  const blocks = 5;
  const per = Math.floor(frames.length / blocks);
  const means: number[] = [];
  for (let b = 0; b < blocks; b += 1) {
    const t0 = process.hrtime.bigint();
    for (let i = b * per; i < (b + 1) * per; i += 1) fn(frames[i]!, i);
    means.push(Number(process.hrtime.bigint() - t0) / 1000 / per);
  }
  return means.sort((a, b) => a - b)[2]!;
}

const row = (name: string, us: number, note = '') => console.log(`  ${name.padEnd(50)} ${us.toFixed(2).padStart(8)} µs/frame  ${note}`);

/** 2 s speech-like, 1 s silence: a talkative caller. */
const talk = (rate: number) => concat(speechLike(rate, 2000, -22), mix(silence(rate, 1000), whiteNoise(rate, 1000, -60)));

/**
 * `calls` SileroVads fed in lockstep, one 20 ms frame each per event-loop turn (as concurrent calls
 * are), `total` call-frames in all. Reports wall µs per call-frame (inference included: ORT runs on
 * the JS thread), µs per inference and the share of model frames the energy gate skipped.
 */
async function sileroCalls(model: SileroModel, name: string, calls: number, signal: Int16Array, total: number, gate: boolean): Promise<void> {
  const opts = gate ? {} : { gateMarginDb: -200, gateMinDbfs: -200 };
  const vads = Array.from({ length: calls }, () => new SileroVad(model, opts));
  const frames = frameList(signal, 16000, Math.floor(signal.length / 320));
  const rounds = Math.max(1, Math.floor(total / calls));
  const before = { ...model.stats };
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < rounds; r += 1) {
    const results = vads.map((v, k) => v.push(frames[(r + k * 7) % frames.length]!));
    if (results.some((x) => typeof x !== 'number')) await Promise.all(results);
  }
  const wall = Number(process.hrtime.bigint() - t0) / 1000 / (rounds * calls);
  const inferred = model.stats.frames - before.frames;
  const perInference = inferred > 0 ? (model.stats.runMicros - before.runMicros) / inferred : 0;
  const batch = inferred > 0 ? inferred / (model.stats.runs - before.runs) : 0;
  const seen = vads.reduce((n, v) => n + v.stats.frames, 0);
  const gated = vads.reduce((n, v) => n + v.stats.gated, 0);
  row(`silero ${name}, ${calls} call${calls > 1 ? 's' : ''}`, wall, `(${perInference.toFixed(0)} µs/inference, mean batch ${batch.toFixed(1)}, gated ${((100 * gated) / seen).toFixed(1)} % of ${seen} model frames)`);
}

async function silero(model: SileroModel, total: number): Promise<void> {
  const t = talk(16000);
  await sileroCalls(model, 'warm-up', 1, t, 200, false);
  await sileroCalls(model, 'talk, gate off', 1, t, total, false);
  await sileroCalls(model, 'talk, gate off', 32, t, total, false);
  await sileroCalls(model, 'talk (2 s speech/1 s pause), gated', 32, t, total, true);
  // Long enough per call (~6 s) that the gate's start-up (≤ 0.5 s of inference on noise) is amortised.
  await sileroCalls(model, 'silence, gated', 32, silence(16000, 3000), 10_000, true);
  await sileroCalls(model, '-45 dBFS pink noise, gated', 32, pinkNoise(16000, 3000, -45), 10_000, true);
}

function memoryPerCall(calls: number): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const rss0 = process.memoryUsage().rss;
  const pipelines = Array.from({ length: calls }, () => ({
    rs: new StreamingResampler(8000, 16000),
    hpf: new HighPassFilter(16000, 100),
    vad: new EnergyVad(),
    ep: new Endpointer({ preRollMs: 1200, silenceMs: 700, chunkMs: 1000, partialMinMs: 600, maxUtteranceMs: 30_000 }),
  }));
  // 3 s of talk each: touches the first ~3 s of each utterance buffer.
  const frames = frameList(talk(8000), 8000, 150);
  for (const p of pipelines) {
    for (const f of frames) {
      const x = p.hpf.process(p.rs.process(f));
      p.ep.push(x, p.vad.push(x));
    }
  }
  gc?.();
  const perCall = (process.memoryUsage().rss - rss0) / calls / 1024;
  console.log(`  RSS per call pipeline (resampler+HPF+EnergyVad+Endpointer 30 s cap, 3 s spoken): ${perCall.toFixed(0)} KB`);
}

async function main(): Promise<void> {
  console.log(`bench:frontend: ${FRAMES} frames of 20 ms per stage (node ${process.version})`);
  const f8 = frameList(talk(8000), 8000, FRAMES);
  const f48 = frameList(talk(48000), 48000, FRAMES);
  const f16 = frameList(talk(16000), 16000, FRAMES);
  const r8 = new StreamingResampler(8000, 16000);
  row('resample 8k → 16k', timeSync(f8, (f) => r8.process(f)));
  const r48 = new StreamingResampler(48000, 16000);
  row('resample 48k → 16k', timeSync(f48, (f) => r48.process(f)));
  const hpf = new HighPassFilter(16000, 100);
  const scratch = new Int16Array(320);
  row('high-pass 100 Hz (4th order) @16k', timeSync(f16, (f) => hpf.process((scratch.set(f), scratch))));
  const evad = new EnergyVad();
  row('EnergyVad', timeSync(f16, (f) => evad.push(f)));
  const epQuiet = new Endpointer({ preRollMs: 1200, silenceMs: 700, chunkMs: 1000, partialMinMs: 600 });
  row('Endpointer, no events (idle)', timeSync(f16, (f) => epQuiet.push(f, 0)));
  // 2 s speech / 1 s silence: a partial each second and a final per utterance, each a fresh copy.
  const probs = f16.map((_, i) => (i % 150 < 100 ? 0.9 : 0));
  const ep = new Endpointer({ preRollMs: 1200, silenceMs: 700, chunkMs: 1000, partialMinMs: 600 });
  row('Endpointer, talk (amortised copies)', timeSync(f16, (f, i) => ep.push(f, probs[i % probs.length]!)));
  const hot = timeSync(f8, (f) => {
    const x = r8.process(f);
    hpf.process(x);
    ep.push(x, evad.push(x));
  });
  row('PCMU path: 8k→16k + HPF + EnergyVad + Endpointer', hot, `→ ${((hot * 25_000) / 1e4).toFixed(1)} % of one core at 500 calls`);

  let model: SileroModel | undefined;
  try {
    model = await SileroModel.load();
  } catch (err) {
    console.log(`  silero: skipped (${(err as Error).message})`);
  }
  if (model) {
    await silero(model, Math.min(FRAMES, 3000));
    await model.release();
  }
  memoryPerCall(500);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
