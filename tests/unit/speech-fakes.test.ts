/**
 * The in-memory speech providers on a manual clock: their latency is the injected timers' time, so a test
 * decides exactly when an answer arrives. (What they answer is checked against the real clients by the
 * contract tests in tests/integration/*-contract.test.ts.)
 */
import { FakeBrain } from '../../src/lib/brain/fake-brain';
import { FakeSpeechToText } from '../../src/lib/stt/fake-stt';
import { FakeTextToSpeech } from '../../src/lib/tts/fake-tts';
import { ManualTime } from '../../src/lib/manual-timers';

/** Lets promise callbacks run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 20; i += 1) await Promise.resolve();
}

function track<T>(p: Promise<T>) {
  const state: { value?: T; error?: unknown; settled: boolean } = { settled: false };
  p.then(
    (value) => Object.assign(state, { value, settled: true }),
    (error: unknown) => Object.assign(state, { error, settled: true }),
  );
  return state;
}

const audio = new Int16Array(1600).fill(1000);

describe('FakeSpeechToText', () => {
  it('answers after its latency on the injected clock, with that latency, script first then `utterance N`', async () => {
    const time = new ManualTime();
    const stt = new FakeSpeechToText({ script: [' hello ', (req) => `${req.pcm16k.length} samples`], latencyMs: 300, timers: time });
    const first = track(stt.transcribe({ url: 'http://stt', pcm16k: audio }));
    await flush();
    expect(stt.inFlight).toBe(1);
    time.advance(299);
    await flush();
    expect(first.settled).toBe(false);
    time.advance(1);
    await flush();
    expect(first.value).toEqual({ text: 'hello', latencyMs: 300, attempts: 1 });
    const second = track(stt.transcribe({ url: 'http://stt', pcm16k: audio }));
    const third = track(stt.transcribe({ url: 'http://stt', pcm16k: audio }));
    time.advance(300);
    await flush();
    expect(second.value?.text).toBe('1600 samples');
    expect(third.value?.text).toBe('utterance 3');
    expect(stt.requests.map((r) => r.pcm16k.length)).toEqual([1600, 1600, 1600]);
    expect(time.pendingTimers).toBe(0);
  });

  it('keeps a copy of the audio (the caller may reuse its buffer) and bounds what it records', async () => {
    const stt = new FakeSpeechToText({ maxRecorded: 2 });
    const buf = new Int16Array([1, 2, 3]);
    await stt.transcribe({ url: 'http://stt', pcm16k: buf });
    buf.fill(9);
    expect(Array.from(stt.requests[0]!.pcm16k)).toEqual([1, 2, 3]);
    await stt.transcribe({ url: 'http://stt', pcm16k: buf });
    await stt.transcribe({ url: 'http://stt', pcm16k: buf });
    expect(stt.requests).toHaveLength(2);
  });

  it('an abort cancels its timer', async () => {
    const time = new ManualTime();
    const stt = new FakeSpeechToText({ latencyMs: 1000, timers: time });
    const ac = new AbortController();
    const p = track(stt.transcribe({ url: 'http://stt', pcm16k: audio, signal: ac.signal }));
    ac.abort();
    await flush();
    expect(p.error).toMatchObject({ code: 'stt_aborted' });
    expect(time.pendingTimers).toBe(0);
    expect(stt.inFlight).toBe(0);
  });
});

describe('FakeTextToSpeech', () => {
  it('answers after its latency a tone whose length follows the text and speed', async () => {
    const time = new ManualTime();
    const tts = new FakeTextToSpeech({ latencyMs: 50, timers: time });
    const slow = track(tts.synthesize({ url: 'http://tts', text: 'x'.repeat(10), voice: 'v', sampleRate: 8000 }));
    const fast = track(tts.synthesize({ url: 'http://tts', text: 'x'.repeat(10), voice: 'v', sampleRate: 8000, speed: 2 }));
    await flush();
    expect(slow.settled).toBe(false);
    time.advance(50);
    await flush();
    // 10 characters × 60 ms = 600 ms at 8 kHz; twice as fast → half as long.
    expect(slow.value?.samples.length).toBe(4800);
    expect(fast.value?.samples.length).toBe(2400);
    expect(tts.durationMs('Hi')).toBe(300);
    expect(tts.requests.map((r) => r.speed)).toEqual([undefined, 2]);
  });

  it('fails the next request when told, then answers again', async () => {
    const tts = new FakeTextToSpeech();
    tts.failNext();
    await expect(tts.synthesize({ url: 'http://tts', text: 'Hi', voice: 'v', sampleRate: 8000 })).rejects.toMatchObject({ code: 'tts_failed', retryable: true });
    await expect(tts.synthesize({ url: 'http://tts', text: 'Hi', voice: 'v', sampleRate: 8000 })).resolves.toMatchObject({ sampleRate: 8000 });
  });
});

describe('FakeBrain', () => {
  it('plays a scripted turn after its latency, and holds a call when the script is empty', async () => {
    const time = new ManualTime();
    const brain = new FakeBrain({ script: [(req) => ({ tokens: [`You said ${req.transcript}.`] })], latencyMs: 200, timers: time });
    const req = { tenantId: 't', callControlId: 'c', transcript: 'hi', history: [] };
    const tokens: string[] = [];
    const scripted = track(brain.reply(req, { onToken: (t) => tokens.push(t) }));
    time.advance(199);
    await flush();
    expect(tokens).toEqual([]);
    time.advance(1);
    await flush();
    expect(scripted.value).toMatchObject({ text: 'You said hi.', firstTokenMs: 200 });

    const held = track(brain.reply(req, { onToken: (t) => tokens.push(t) }));
    time.advance(10_000);
    await flush();
    expect(held.settled).toBe(false);
    brain.last.token('Sure.');
    brain.last.finish();
    await flush();
    expect(held.value).toMatchObject({ text: 'Sure.' });
    expect(brain.calls).toHaveLength(2);
  });

  it('a stalled turn ends only by abort, with the text delivered so far', async () => {
    const brain = new FakeBrain({ script: [{ tokens: ['One', ' two'], stallAfterTokens: 1 }] });
    const ac = new AbortController();
    const p = track(brain.reply({ tenantId: 't', callControlId: 'c', transcript: 'x', history: [] }, { signal: ac.signal }));
    await flush();
    expect(p.settled).toBe(false);
    ac.abort();
    await flush();
    expect(p.error).toMatchObject({ code: 'brain_aborted', partialText: 'One' });
  });
});
