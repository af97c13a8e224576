import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CallRecord } from '../../src/lib/calls/call-store';
import { loadConfig } from '../../src/lib/config';
import { createLogger } from '../../src/lib/logger';
import { createMetrics } from '../../src/lib/metrics';
import { createSttDebugDumper } from '../../src/lib/stt/debug-dump';
import { FakeSpeechToText } from '../../src/lib/stt/fake-stt';
import { createVadFactory } from '../../src/media/vad/vad-factory';
import { createSessionFactory, type SessionFactoryDeps } from '../../src/media/session/session-factory';
import { createSpeechPipeline, type SpeechPipelineFactoryDeps } from '../../src/media/speech/create-speech-pipeline';
import { RecordingListeners } from '../fakes/recording-listener';
import { encodedSpeech } from '../support/media-harness';
import { testEnv } from '../support/test-config';

/**
 * The seed's STT variables each change what reaches Whisper. Runs the real media session and
 * STT pipeline (energy VAD, so the test is about endpointing, not the model) on espeak speech.
 */
async function run(env: Record<string, string>, opts: { dumpDir?: string; partialSkipReason?: () => string | undefined } = {}) {
  // The silence rule alone (TURN_END_MODE=silence): these are the STT_* settings' own effects;
  // the end-of-turn rule has its tests in turn-taking.test.ts.
  const config = loadConfig(testEnv({ TURN_END_MODE: 'silence', ...env }));
  const stt = new FakeSpeechToText();
  const listeners = new RecordingListeners();
  const metrics = createMetrics({ defaultMetrics: false });
  const deps: SessionFactoryDeps & SpeechPipelineFactoryDeps = {
    config,
    vadFactory: await createVadFactory({ mode: 'energy' }),
    stt,
    dumper: createSttDebugDumper({ dir: opts.dumpDir, dumpWavs: config.STT_DEBUG_DUMP_WHISPER_WAVS, dumpPcm: config.STT_DEBUG_DUMP_PCM16 }),
    streamControl: { restart: async () => undefined },
    partialSkipReason: opts.partialSkipReason,
    metrics,
    logger: createLogger({ level: 'silent' }),
  };
  const call: CallRecord = { callControlId: 'stt-call', phase: 'active', startedAt: 0 };
  const pipeline = createSpeechPipeline(deps, undefined, call.callControlId, listeners.for(call.callControlId));
  const session = createSessionFactory(deps)(call.callControlId, { send() {}, close() {} }, pipeline, { dtmf: () => undefined }, 0);
  session.handleMessage(JSON.stringify({ event: 'start', start: { media_format: { encoding: 'PCMU', sample_rate: 8000 } } }));
  // The speech, then 3 s of µ-law silence (0xFF) so even a long STT_SILENCE_MS can end the last utterance.
  const frames = [...encodedSpeech('PCMU', 8000), ...Array.from({ length: 150 }, () => new Uint8Array(160).fill(0xff))];
  for (let i = 0; i < frames.length; i += 1) {
    session.handleMessage(JSON.stringify({ event: 'media', sequence_number: String(i + 2), media: { track: 'inbound', chunk: String(i + 1), payload: Buffer.from(frames[i]!).toString('base64') } }));
    await new Promise((r) => setImmediate(r)); // let STT requests settle, as between real 20 ms frames
  }
  // Every STT request answered (the fake answers on the event loop, the pipeline delivers finals in
  // order right after), then the session closes and the debug dumper writes what it still holds.
  while (stt.inFlight > 0) await new Promise((r) => setImmediate(r));
  session.close();
  await deps.dumper.flush();
  const finals = listeners.events.filter((e) => e.type === 'final');
  const partials = listeners.events.filter((e) => e.type === 'partial');
  const skipped = (await metrics.sttPartialsSkipped.get()).values;
  return { sent: stt.requests, finals, partials, skipped };
}

const ms = (pcm: Int16Array) => (pcm.length * 1000) / 16000;
const base = { STT_SILENCE_MS: '500', STT_PRE_ROLL_MS: '300', STT_CHUNK_MS: '60000', STT_PARTIAL_MIN_MS: '60000' };

describe('STT settings change what Whisper receives', () => {
  it('STT_PRE_ROLL_MS adds that much audio before the speech onset', async () => {
    const short = await run({ ...base, STT_PRE_ROLL_MS: '0' });
    const long = await run({ ...base, STT_PRE_ROLL_MS: '500' });
    expect(short.sent).toHaveLength(2);
    expect(long.sent).toHaveLength(2);
    expect(ms(long.sent[0]!.pcm16k) - ms(short.sent[0]!.pcm16k)).toBeGreaterThanOrEqual(400);
  });

  it('STT_SILENCE_MS decides what pause ends an utterance', async () => {
    expect((await run({ ...base, STT_SILENCE_MS: '500' })).sent).toHaveLength(2);
    // The pause between the two utterances is 1.8 s: a 2.5 s endpoint joins them into one.
    const joined = await run({ ...base, STT_SILENCE_MS: '2500' });
    expect(joined.sent).toHaveLength(1);
  });

  it('STT_PARTIAL_MIN_MS and STT_CHUNK_MS set when and how often partials are transcribed', async () => {
    const none = await run(base);
    expect(none.partials).toHaveLength(0);
    const sparse = await run({ ...base, STT_PARTIAL_MIN_MS: '600', STT_CHUNK_MS: '5000' });
    const dense = await run({ ...base, STT_PARTIAL_MIN_MS: '600', STT_CHUNK_MS: '500' });
    expect(sparse.sent.length).toBeGreaterThan(2); // at least one partial request per utterance
    expect(dense.sent.length).toBeGreaterThan(sparse.sent.length);
  });

  it('partials are shed while the runtime says so (STT slots busy, loop overloaded); finals never are', async () => {
    const env = { ...base, STT_PARTIAL_MIN_MS: '600', STT_CHUNK_MS: '500' };
    const normal = await run(env);
    let busy = true;
    const shed = await run(env, { partialSkipReason: () => (busy ? 'loop_busy' : undefined) });
    expect(normal.sent.length).toBeGreaterThan(2);
    expect(shed.sent).toHaveLength(2); // the two finals only
    expect(shed.finals.map((f) => f.type)).toEqual(['final', 'final']);
    const loopBusy = shed.skipped.find((v) => v.labels.reason === 'loop_busy');
    expect(loopBusy?.value).toBeGreaterThan(0);
    busy = false;
    const resumed = await run(env, { partialSkipReason: () => (busy ? 'loop_busy' : undefined) });
    expect(resumed.sent.length).toBe(normal.sent.length);
  });

  it('STT_HIGHPASS_ENABLED / STT_HIGHPASS_CUTOFF_HZ filter the audio sent to Whisper', async () => {
    const off = await run({ ...base, STT_HIGHPASS_ENABLED: 'false' });
    const on = await run({ ...base, STT_HIGHPASS_ENABLED: 'true', STT_HIGHPASS_CUTOFF_HZ: '100' });
    const hard = await run({ ...base, STT_HIGHPASS_ENABLED: 'true', STT_HIGHPASS_CUTOFF_HZ: '1500' });
    const energy = (p: Int16Array) => p.reduce((s, v) => s + v * v, 0);
    const e = (r: Awaited<ReturnType<typeof run>>) => energy(r.sent[0]!.pcm16k);
    expect(e(on)).toBeLessThan(e(off));
    expect(e(hard)).toBeLessThan(e(on) * 0.8);
  });

  it('STT_DEBUG_DUMP_WHISPER_WAVS / STT_DEBUG_DUMP_PCM16 write the sent WAVs / decoded PCM to STT_DEBUG_DIR', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'stt-dump-'));
    const none = mkdtempSync(path.join(os.tmpdir(), 'stt-dump-'));
    try {
      await run({ ...base, STT_DEBUG_DUMP_WHISPER_WAVS: 'true', STT_DEBUG_DUMP_PCM16: 'true', STT_DEBUG_DIR: dir }, { dumpDir: dir }); // flushes the dumper
      const files = readdirSync(dir, { recursive: true }).map(String);
      expect(files.filter((f) => f.endsWith('.wav'))).toHaveLength(2);
      expect(files.some((f) => /pcm|s16|raw/.test(f))).toBe(true);
      await run(base, { dumpDir: none });
      expect(readdirSync(none)).toEqual([]);
    } finally {
      for (const d of [dir, none]) rmSync(d, { recursive: true, force: true });
    }
  });
});
