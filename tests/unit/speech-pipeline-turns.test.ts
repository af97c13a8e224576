/**
 * The speech pipeline's end-of-turn half on a real Endpointer with a scripted VAD (speech or silence
 * per 20 ms frame) and the in-memory STT: incremental transcription (audio already transcribed is
 * not sent again; the rest goes with the text so far as the prompt), tentative words when the turn
 * may be over, and `speechResumed` when the caller goes on.
 */
import { createLogger } from '../../src/lib/logger';
import { createMetrics } from '../../src/lib/metrics';
import { createSttDebugDumper } from '../../src/lib/stt/debug-dump';
import { FakeSpeechToText, type FakeSttAnswer } from '../../src/lib/stt/fake-stt';
import type { SpeechToText } from '../../src/lib/stt/port';
import { FinalDeduper } from '../../src/lib/stt/transcript-filter';
import { Endpointer } from '../../src/media/audio/endpointer';
import { LocalFrontEnd } from '../../src/media/frontend/local-front-end';
import { SpeechPipeline } from '../../src/media/speech/speech-pipeline';
import type { CallInputListener } from '../../src/media/ports';
import type { Vad } from '../../src/media/vad/vad';

const FRAME = 320; // 20 ms at 16 kHz

function harness(answers: FakeSttAnswer[], opts: { silenceMs?: number; stt?: SpeechToText } = {}) {
  let speaking = false;
  const vad: Vad = {
    kind: 'energy',
    frameSamples: FRAME,
    endLagMs: 0,
    stats: { inferred: 0, gated: 0, dropped: 0 },
    push: () => (speaking ? 1 : 0),
    reset: () => undefined,
  } as unknown as Vad;
  const silenceMs = opts.silenceMs ?? 600;
  const fake = new FakeSpeechToText({ script: answers });
  const stt = fake;
  const events: string[] = [];
  const listener: CallInputListener = {
    speechStarted: () => events.push('speechStarted'),
    speechResumed: () => events.push('resumed'),
    tentative: (t) => events.push(`tentative: ${t}`),
    partial: () => undefined,
    wantsPartials: false,
    final: (t) => events.push(`final: ${t}`),
    dtmf: () => undefined,
    sttError: (e) => events.push(`error: ${e.message}`),
  };
  const frontEnd = new LocalFrontEnd({
    highPassCutoffHz: null,
    vad,
    endpointer: new Endpointer({ preRollMs: 100, silenceMs, chunkMs: 60_000, partialMinMs: 60_000, pauseMs: 120, settledMs: 300, keepTrailingMs: 200 }),
    onVadError: () => undefined,
  });
  const pipeline = new SpeechPipeline({
    callControlId: 'c1',
    frontEnd,
    endpointer: frontEnd,
    stt: opts.stt ?? stt,
    sttUrl: 'http://stt.invalid/v1/audio/transcriptions',
    language: 'en',
    deduper: new FinalDeduper(),
    dumper: createSttDebugDumper({ dumpWavs: false, dumpPcm: false }),
    listener,
    endOfTurn: { completeMs: 200, incompleteMs: 1500, silenceMs },
    metrics: createMetrics({ defaultMetrics: false }),
    logger: createLogger({ level: 'silent' }),
    now: () => Date.now(),
  });
  const tone = new Int16Array(FRAME).map((_, i) => Math.round(8000 * Math.sin(i / 3)));
  const quiet = new Int16Array(FRAME);
  /** `ms` of speech or silence, letting STT answers land between frames as in real time. */
  const feed = async (kind: 'speech' | 'silence', ms: number) => {
    speaking = kind === 'speech';
    for (let t = 0; t < ms; t += 20) {
      pipeline.pushPcm(kind === 'speech' ? tone : quiet, 16000);
      await new Promise((r) => setImmediate(r));
    }
  };
  return { pipeline, stt, events, feed };
}

describe('speech pipeline: incremental transcription and tentative turns', () => {
  it('sends only the audio after the last pause, prompted with the words so far, and joins them', async () => {
    const h = harness(['I would like to book an appointment for', 'tomorrow morning.']);
    await h.feed('speech', 1000);
    await h.feed('silence', 900); // incomplete: the rule waits up to 1.5 s
    await h.feed('speech', 600);
    await h.feed('silence', 800);
    // A finished sentence ends after 200 ms of silence, before the silence settles (300 ms): no tentative step.
    expect(h.events).toEqual(['speechStarted', 'resumed', 'final: I would like to book an appointment for tomorrow morning.']);
    expect(h.stt.requests).toHaveLength(2);
    const [first, second] = h.stt.requests;
    expect(first!.prompt).toBeUndefined();
    expect(second!.prompt).toBe('I would like to book an appointment for');
    // The second request holds the pause and the new speech, not the first 1.1 s again.
    const ms = (r: { pcm16k: Int16Array }) => (r.pcm16k.length * 1000) / 16000;
    expect(ms(first!)).toBeGreaterThanOrEqual(1100);
    expect(ms(second!)).toBeLessThanOrEqual(1620); // 100 ms of overlap before the cut
    expect(ms(first!) + ms(second!)).toBeLessThan(3000); // the whole utterance again would be 3 840
  });

  it('sends the whole utterance when the earlier part could not be transcribed', async () => {
    const answer = (r: { prompt?: string }) => (r.prompt ? 'there.' : 'Hello there.');
    const h = harness([answer, answer, answer, answer]);
    h.stt.failNext(1);
    await h.feed('speech', 500);
    await h.feed('silence', 300);
    await h.feed('speech', 500);
    await h.feed('silence', 900);
    // Its first part failed: the whole utterance goes again, without a prompt.
    const last = h.stt.requests.at(-1)!;
    expect(last.prompt).toBeUndefined();
    expect((last.pcm16k.length * 1000) / 16000).toBeGreaterThan(1200);
    expect(h.events.filter((e) => e.startsWith('final'))).toEqual(['final: Hello there.']);
  });

  it('tells the listener tentative words when the rule waits longer, and not for an unfinished sentence', async () => {
    const h = harness(['two people', 'and a high chair please'], { silenceMs: 1000 });
    await h.feed('speech', 600);
    await h.feed('silence', 400); // "two people": no final punctuation → waits STT_SILENCE_MS
    expect(h.events).toEqual(['speechStarted', 'tentative: two people']);
    await h.feed('speech', 600);
    await h.feed('silence', 1200);
    expect(h.events).toEqual(['speechStarted', 'tentative: two people', 'resumed', 'tentative: two people and a high chair please', 'final: two people and a high chair please']);

    // A pause shorter than the settled silence (300 ms) inside a sentence starts nothing.
    const short = harness(['two people', 'and a high chair please'], { silenceMs: 1000 });
    await short.feed('speech', 600);
    await short.feed('silence', 240);
    await short.feed('speech', 600);
    await short.feed('silence', 1200);
    expect(short.events).toEqual(['speechStarted', 'resumed', 'tentative: two people and a high chair please', 'final: two people and a high chair please']);

    const unfinished = harness(['I would like a table for'], { silenceMs: 1000 });
    await unfinished.feed('speech', 600);
    await unfinished.feed('silence', 1700);
    expect(unfinished.events).toEqual(['speechStarted', 'final: I would like a table for']);
  });

  it('a complete sentence whose transcript comes after the short silence ends the turn at once, transcribed once', async () => {
    const h = harness(['Could I book a table for two tonight?']);
    h.stt.setLatency(150);
    await h.feed('speech', 800);
    await h.feed('silence', 200);
    await new Promise((r) => setTimeout(r, 200));
    expect(h.events).toEqual(['speechStarted', 'final: Could I book a table for two tonight?']);
    expect(h.stt.requests).toHaveLength(1);
  });

  it('a blip or hallucination after the pause adds nothing to the words', async () => {
    const answer = (r: { prompt?: string }) => (r.prompt ? 'Thank you.' : 'two people');
    const h = harness([answer, answer, answer], { silenceMs: 1000 });
    await h.feed('speech', 600);
    await h.feed('silence', 400);
    await h.feed('speech', 200);
    await h.feed('silence', 1200);
    expect(h.events.filter((e) => e.startsWith('final'))).toEqual(['final: two people']);
  });
});
