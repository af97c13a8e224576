/**
 * In-process micro-benchmarks for bench:media (part 1): µs per 20 ms frame of every codec decoder,
 * of each front-end stage (8k→16k resample, high-pass, energy/Silero VAD, endpointer) and of the
 * whole per-frame session path (JSON parse + base64 + decode + pipeline) as the runtime runs it.
 * Every measurement is time-boxed (`budgetMs`); the median of block means is reported so a burst
 * from another process does not dominate.
 */
import { AMRWB_FRAME_BITS, createDecoder, createEncoder, isAmrWbAvailable, type Decoder } from '../../src/media/audio/codecs';
import { Endpointer, type EndpointerConfig } from '../../src/media/audio/endpointer';
import { EnergyVad } from '../../src/media/vad/energy-vad';
import { HighPassFilter } from '../../src/media/audio/highpass';
import { StreamingResampler } from '../../src/media/audio/resampler';
import { sharedSileroModel, type SileroModel } from '../../src/media/vad/silero-model';
import { SileroVad } from '../../src/media/vad/silero-vad';
import type { Vad } from '../../src/media/vad/vad';
import { createLogger } from '../../src/lib/logger';
import { createMetrics } from '../../src/lib/metrics';
import { createSttDebugDumper } from '../../src/lib/stt/debug-dump';
import { FinalDeduper } from '../../src/lib/stt/transcript-filter';
import { MediaSession } from '../../src/media/session/media-session';
import { StreamTransport } from '../../src/media/session/stream-transport';
import { LocalFrontEnd } from '../../src/media/frontend/local-front-end';
import { SpeechPipeline } from '../../src/media/speech/speech-pipeline';
import { amrWbStorageFrames, chunks, fixture, oggOpusPackets, packOctetAligned, pcmFixture } from '../../tests/fixtures/codecs/reference';
import { speechFixture } from '../../tests/support/speech-fixture';

export interface MicroResult {
  name: string;
  /** µs per 20 ms of audio (per call-frame for multi-call rows). */
  us: number;
  note?: string;
}

const ENDPOINTER: EndpointerConfig = { preRollMs: 1200, silenceMs: 500, chunkMs: 1000, partialMinMs: 600, maxUtteranceMs: 30_000 };

const now = () => Number(process.hrtime.bigint()) / 1000;

/** Median-of-blocks µs per call of `fn` over `items` (cycled), within ~budgetMs. */
function perItem<T>(items: T[], fn: (item: T, i: number) => unknown, budgetMs: number): number {
  const warmEnd = now() + Math.min(100_000, budgetMs * 200);
  let i = 0;
  while (now() < warmEnd) fn(items[i % items.length]!, i++);
  const blockSize = Math.max(items.length, 200);
  const means: number[] = [];
  const end = now() + budgetMs * 1000;
  do {
    const t0 = now();
    for (let k = 0; k < blockSize; k += 1, i += 1) fn(items[i % items.length]!, i);
    means.push((now() - t0) / blockSize);
  } while (now() < end || means.length < 3);
  means.sort((a, b) => a - b);
  return means[Math.floor(means.length / 2)]!;
}

function frameList(pcm: Int16Array, size: number): Int16Array[] {
  const out: Int16Array[] = [];
  for (let i = 0; i + size <= pcm.length; i += size) out.push(pcm.subarray(i, i + size));
  return out;
}

/** Per-20 ms cost of a decoder on payloads; scales by the audio each payload decodes to. */
function decoderRow(name: string, make: () => Decoder, payloads: Uint8Array[], budgetMs: number): MicroResult {
  const d = make();
  let samples = 0;
  for (const p of payloads) samples += d.decode(p)?.length ?? 0;
  const msPerPayload = (samples / payloads.length / d.sampleRate) * 1000;
  const us = perItem(payloads, (p) => d.decode(p), budgetMs) * (20 / msPerPayload);
  d.close();
  return { name, us, note: `${payloads.length} payloads of ${msPerPayload.toFixed(0)} ms @ ${d.sampleRate / 1000} kHz` };
}

export function codecBenchmarks(budgetMs: number): MicroResult[] {
  const ref8 = pcmFixture('speech-8k.s16le');
  const ref16 = pcmFixture('speech-16k.s16le');
  const out: MicroResult[] = [];
  for (const enc of ['PCMU', 'PCMA'] as const) {
    const e = createEncoder(enc);
    const payloads = frameList(ref8, 160).map((f) => e.encode(f).slice());
    out.push(decoderRow(`${enc} decode`, () => createDecoder(enc), payloads, budgetMs));
  }
  {
    const e = createEncoder('L16', { sampleRate: 16000 });
    const payloads = frameList(ref16, 320).map((f) => e.encode(f).slice());
    out.push(decoderRow('L16 16k decode', () => createDecoder('L16', { sampleRate: 16000 }), payloads, budgetMs));
  }
  out.push(decoderRow('G722 decode', () => createDecoder('G722'), chunks(fixture('speech.g722'), 160), budgetMs));
  out.push(decoderRow('OPUS decode @16k', () => createDecoder('OPUS'), oggOpusPackets(fixture('speech.opus')), budgetMs));
  if (isAmrWbAvailable()) {
    const payloads = amrWbStorageFrames(fixture('speech.awb'), AMRWB_FRAME_BITS).map((f) => packOctetAligned([f]));
    out.push(decoderRow('AMR-WB decode (RTP octet-aligned)', () => createDecoder('AMR-WB'), payloads, budgetMs));
  } else out.push({ name: 'AMR-WB decode', us: NaN, note: 'libopencore-amrwb missing' });
  return out;
}

/** `calls` VADs fed in lockstep, one frame each per event-loop turn; wall µs per call-frame. */
async function vadLockstep(vads: Vad[], frames: Int16Array[], budgetMs: number): Promise<number> {
  const turn = () => new Promise<void>((r) => setImmediate(r));
  let i = 0;
  const round = async () => {
    const rs = vads.map((v, k) => v.push(frames[(i + k * 37) % frames.length]!));
    i += 1;
    const pending = rs.filter((x): x is Promise<number> => typeof x !== 'number');
    if (pending.length) await Promise.all(pending);
    else await turn();
  };
  for (let w = 0; w < 20; w += 1) await round();
  const t0 = now();
  let rounds = 0;
  const end = t0 + budgetMs * 1000;
  while (now() < end || rounds < 20) {
    await round();
    rounds += 1;
  }
  return (now() - t0) / (rounds * vads.length);
}

export async function frontEndBenchmarks(budgetMs: number, model: SileroModel | undefined): Promise<MicroResult[]> {
  const fx = speechFixture();
  const out: MicroResult[] = [];
  const f8 = frameList(fx.pcm8k, 160);
  const f16 = frameList(fx.pcm16k, 320);
  const speech16 = fx.utterances.flatMap((u) => frameList(fx.pcm16k.subarray(Math.round(u.startMs * 16), Math.round(u.endMs * 16)), 320));
  const silence16 = [new Int16Array(320)];

  const rs = new StreamingResampler(8000, 16000);
  out.push({ name: 'resample 8k → 16k', us: perItem(f8, (f) => rs.process(f), budgetMs) });
  const hpf = new HighPassFilter(16000, 100);
  const scratch = new Int16Array(320);
  out.push({ name: 'high-pass 100 Hz @16k', us: perItem(f16, (f) => hpf.process((scratch.set(f), scratch)), budgetMs) });
  const hpf8 = new HighPassFilter(8000, 100);
  const scratch8 = new Int16Array(160);
  out.push({ name: 'high-pass 100 Hz @8k (before resampling: what an 8 kHz call runs)', us: perItem(f8, (f) => hpf8.process((scratch8.set(f), scratch8)), budgetMs) });
  const ev = new EnergyVad();
  out.push({ name: 'energy VAD', us: perItem(f16, (f) => ev.push(f), budgetMs) });
  // Ground-truth speech probability per 20 ms frame from the fixture's utterance spans.
  const probs = f16.map((_, i) => (fx.utterances.some((u) => i * 20 >= u.startMs && i * 20 < u.endMs) ? 0.9 : 0.05));
  const ep = new Endpointer(ENDPOINTER);
  out.push({ name: 'endpointer (fixture speech/pauses: partials + finals copy audio)', us: perItem(f16, (f, i) => ep.push(f, probs[i % probs.length]!), budgetMs) });
  {
    const r = new StreamingResampler(8000, 16000);
    const h = new HighPassFilter(16000, 100);
    const v = new EnergyVad();
    const e = new Endpointer(ENDPOINTER);
    out.push({
      name: 'chain 8k→16k + HPF + energy VAD + endpointer',
      us: perItem(f8, (f, i) => {
        const x = r.process(f);
        h.process(x);
        v.push(x);
        e.push(x, probs[i % probs.length]!); // ground-truth probability so the endpointer really segments
      }, budgetMs),
    });
  }
  if (model) {
    const stat = (before: SileroModel['stats']) => {
      const n = model.stats.frames - before.frames;
      const runs = model.stats.runs - before.runs;
      return n > 0 ? `${((model.stats.runMicros - before.runMicros) / n).toFixed(0)} µs/inference, mean batch ${(n / runs).toFixed(1)}` : 'no inference (all gated)';
    };
    for (const [label, frames, calls] of [
      ['speech', speech16, 1],
      ['speech', speech16, 32],
      ['silence (gated)', silence16, 1],
      ['silence (gated)', silence16, 32],
      ['fixture mix', f16, 32],
    ] as const) {
      const vads = Array.from({ length: calls }, () => new SileroVad(model));
      const before = { ...model.stats };
      const us = await vadLockstep(vads, frames as Int16Array[], budgetMs);
      out.push({ name: `Silero VAD, ${label}, ${calls} call${calls > 1 ? 's' : ''} in lockstep`, us, note: stat(before) });
    }
    // Telephony calls: Silero's 8 kHz mode on the 8 kHz audio, before resampling (per 20 ms frame).
    const model8k = await sharedSileroModel({ sampleRate: 8000 }).catch(() => undefined);
    if (model8k) {
      const speech8 = fx.utterances.flatMap((u) => frameList(fx.pcm8k.subarray(Math.round(u.startMs * 8), Math.round(u.endMs * 8)), 160));
      const vads = Array.from({ length: 32 }, () => new SileroVad(model8k));
      const before = { ...model8k.stats };
      const us = await vadLockstep(vads, speech8, budgetMs);
      const n = model8k.stats.frames - before.frames;
      const runs = model8k.stats.runs - before.runs;
      out.push({ name: 'Silero VAD 8 kHz, speech, 32 calls in lockstep', us, note: n > 0 ? `${((model8k.stats.runMicros - before.runMicros) / n).toFixed(0)} µs/inference, mean batch ${(n / runs).toFixed(1)}` : 'no inference' });
    }
  }
  return out;
}

/**
 * The whole per-frame path of the runtime minus the socket: the message's bytes into StreamTransport
 * (compact-frame parse, base64, reorder, PCMU decode in its MediaSession) → SpeechPipeline (HPF,
 * VAD, resample, endpointer, instant STT).
 * `calls` sessions in lockstep, one frame each per event-loop turn.
 */
export async function sessionBenchmark(vadMake: () => Vad, calls: number, budgetMs: number, label: string): Promise<MicroResult> {
  const fx = speechFixture();
  const enc = createEncoder('PCMU');
  const b64 = frameList(fx.pcm8k, 160).map((f) => Buffer.from(enc.encode(f)).toString('base64'));
  const metrics = createMetrics({ defaultMetrics: false });
  const logger = createLogger({ level: 'silent' });
  const dumper = createSttDebugDumper({ dumpWavs: false, dumpPcm: false });
  const listener = { speechStarted: () => undefined, partial: () => undefined, final: () => undefined, dtmf: () => undefined, sttError: () => undefined };
  const stt = { transcribe: () => Promise.resolve({ text: 'hello there', latencyMs: 0, attempts: 1 }) };
  const sessions = Array.from({ length: calls }, (_, k) => {
    const frontEnd = new LocalFrontEnd({ highPassCutoffHz: 100, vad: vadMake(), endpointer: new Endpointer(ENDPOINTER) });
    const pipeline = new SpeechPipeline({
      callControlId: `bench-${k}`, frontEnd, endpointer: frontEnd,
      stt, sttUrl: 'http://127.0.0.1:1/v1/audio/transcriptions', deduper: new FinalDeduper(), dumper, listener, metrics, logger, now: Date.now,
    });
    const s = new MediaSession(`bench-${k}`, { send: () => undefined, close: () => undefined }, {
      health: { enabled: true, restartEnabled: false, startGraceMs: 1e9, postPlaybackGraceMs: 1e9, minAudioMsSincePlaybackEnd: 0 },
      decodeFailuresBeforeFallback: 3,
      amrwbMinDecodedBytes: 320,
      l16ByteOrder: 'be',
      maxRestarts: 0,
      streamControl: { restart: async () => undefined },
      sink: pipeline,
      events: listener,
      metrics,
      logger,
      now: Date.now,
    });
    // Messages arrive as the socket hands them over (bytes) through the stream's transport, as in the runtime.
    const t = new StreamTransport({ send: () => undefined, close: () => undefined }, () => s);
    t.open(pipeline, { started: () => undefined, played: () => undefined, dtmf: () => undefined, ended: () => undefined });
    t.receive(Buffer.from(JSON.stringify({ event: 'start', start: { media_format: { encoding: 'PCMU', sample_rate: 8000, channels: 1 } } })));
    return t;
  });
  const turn = () => new Promise<void>((r) => setImmediate(r));
  // Each session needs consecutive chunks: one shared counter per round, same for every session.
  let round = 0;
  const run = () => {
    round += 1;
    for (let k = 0; k < calls; k += 1) {
      const p = b64[(round + k * 53) % b64.length]!;
      sessions[k]!.receive(
        Buffer.from(`{"event":"media","sequence_number":"${round}","stream_id":"s${k}","media":{"track":"inbound","chunk":"${round}","timestamp":"${round * 20}","payload":"${p}"}}`),
      );
    }
  };
  for (let w = 0; w < 50; w += 1) {
    run();
    await turn();
  }
  const t0 = now();
  let rounds = 0;
  const end = t0 + budgetMs * 1000;
  while (now() < end || rounds < 20) {
    run();
    await turn();
    rounds += 1;
  }
  for (let w = 0; w < 5; w += 1) await turn(); // let queued inference finish inside the timing
  const us = (now() - t0) / (rounds * calls);
  for (const s of sessions) s.close('bench over');
  const decoded = (await metrics.mediaFrames.get()).values.find((v) => v.labels.outcome === 'decoded')?.value ?? 0;
  return { name: `session path (bytes → transport → parse+base64+PCMU+pipeline), ${label}, ${calls} calls`, us, note: `${decoded} frames decoded` };
}

export async function loadSilero(): Promise<SileroModel | undefined> {
  try {
    return await sharedSileroModel();
  } catch (err) {
    console.log(`  silero: unavailable (${(err as Error).message})`);
    return undefined;
  }
}
