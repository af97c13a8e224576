import http from 'node:http';
import { AppError } from '../../src/lib/errors';
import { createWhisperClient, type WhisperClient } from '../../src/lib/stt/whisper-client';
import { startFakeWhisper, type FakeWhisper } from '../fakes/fake-whisper';
import { waitUntil } from '../support/call-harness';

async function rejection(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected a rejection');
}

/** 250 ms of a 300 Hz tone at 16 kHz. */
const speech = Int16Array.from({ length: 4000 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 300 * i) / 16000)));

describe('whisper client against a real HTTP fake', () => {
  const agent = new http.Agent({ keepAlive: true });
  const clients: WhisperClient[] = [];
  const make = (o: Partial<Parameters<typeof createWhisperClient>[0]> = {}) => {
    const c = createWhisperClient({ timeoutMs: 2000, maxConcurrent: 4, httpAgent: agent, retryDelayMs: 10, ...o });
    clients.push(c);
    return c;
  };
  let fake: FakeWhisper;
  beforeEach(async () => {
    fake = await startFakeWhisper();
  });
  afterEach(async () => {
    await fake.close();
  });
  afterAll(() => {
    clients.forEach((c) => c.close());
    agent.destroy();
  });

  it('speaks OpenAI multipart to /v1/audio/transcriptions with model and language', async () => {
    const res = await make().transcribe({ url: fake.transcriptionsUrl, pcm16k: speech, language: 'en' });
    expect(res).toMatchObject({ text: 'utterance 1', attempts: 1 });
    expect(res.latencyMs).toBeGreaterThan(0);
    expect(fake.requests).toHaveLength(1);
    const r = fake.requests[0]!;
    expect(r).toMatchObject({ protocol: 'multipart', path: '/v1/audio/transcriptions', language: 'en', model: 'whisper-1', responseFormat: 'json' });
    expect(r.wav).toMatchObject({ sampleRate: 16000, channels: 1, bitsPerSample: 16, durationMs: 250 });
    expect(Array.from(r.wav!.samples)).toEqual(Array.from(speech));
  });

  it('speaks multipart to whisper.cpp /inference, omitting language when unset, custom model', async () => {
    const res = await make().transcribe({ url: fake.inferenceUrl, pcm16k: speech, model: 'ggml-base.en' });
    expect(res.text).toBe('utterance 1');
    expect(fake.requests[0]).toMatchObject({ protocol: 'multipart', path: '/inference', model: 'ggml-base.en', language: undefined });
  });

  it('speaks the original raw audio/wav protocol to any other path with ?language=', async () => {
    const client = make();
    await client.transcribe({ url: fake.rawUrl, pcm16k: speech, language: 'de' });
    await client.transcribe({ url: `${fake.url}/asr?token=t`, pcm16k: speech });
    expect(fake.requests[0]).toMatchObject({ protocol: 'raw', path: '/stt', language: 'de' });
    expect(fake.requests[0]!.headers['content-type']).toBe('audio/wav');
    expect(fake.requests[0]!.headers['content-length']).toBe(String(44 + speech.length * 2));
    expect(fake.requests[0]!.raw.subarray(0, 4).toString('latin1')).toBe('RIFF');
    expect(fake.requests[1]).toMatchObject({ protocol: 'raw', path: '/asr', language: undefined });
    expect(fake.requests[1]!.wav!.samples).toHaveLength(speech.length);
  });

  it.each<[string, unknown, string | undefined, string]>([
    ['{text}', { text: ' Hello. ' }, undefined, 'Hello.'],
    ['{transcription}', { transcription: 'From the original server' }, undefined, 'From the original server'],
    ['{segments}', { segments: [{ text: ' Good' }, { text: ' morning.' }] }, undefined, 'Good morning.'],
    ['text/plain', '  just text\n', 'text/plain', 'just text'],
  ])('accepts a %s answer', async (_name, body, contentType, expected) => {
    const custom = await startFakeWhisper({ respond: () => ({ body, contentType }) });
    try {
      for (const url of [custom.rawUrl, custom.transcriptionsUrl]) {
        expect((await make().transcribe({ url, pcm16k: speech })).text).toBe(expected);
      }
    } finally {
      await custom.close();
    }
  });

  it('passes scripted and WAV-dependent answers through', async () => {
    const scripted = await startFakeWhisper({ script: ['first', 'second'] });
    const measuring = await startFakeWhisper({ respond: (wav) => `${wav.durationMs} ms` });
    try {
      const c = make();
      expect((await c.transcribe({ url: scripted.rawUrl, pcm16k: speech })).text).toBe('first');
      expect((await c.transcribe({ url: scripted.rawUrl, pcm16k: speech })).text).toBe('second');
      expect((await c.transcribe({ url: scripted.rawUrl, pcm16k: speech })).text).toBe('utterance 3');
      expect((await c.transcribe({ url: measuring.transcriptionsUrl, pcm16k: speech })).text).toBe('250 ms');
    } finally {
      await Promise.all([scripted.close(), measuring.close()]);
    }
  });

  it('retries once after a 500 and succeeds', async () => {
    fake.failNext(500);
    const res = await make().transcribe({ url: fake.transcriptionsUrl, pcm16k: speech });
    expect(res).toMatchObject({ text: 'utterance 1', attempts: 2 });
    expect(fake.requests).toHaveLength(2);
  });

  it('gives up after one retry on repeated 5xx with a retryable stt_failed', async () => {
    fake.failNext(503, 5);
    const err = await rejection(make().transcribe({ url: fake.rawUrl, pcm16k: speech }));
    expect(err).toMatchObject({ code: 'stt_failed', retryable: true });
    expect(err.details).toMatchObject({ status: 503 });
    expect(fake.requests).toHaveLength(2);
  });

  it('does not retry a 400 and marks it non-retryable', async () => {
    fake.failNext(400);
    const err = await rejection(make().transcribe({ url: fake.transcriptionsUrl, pcm16k: speech }));
    expect(err).toMatchObject({ code: 'stt_failed', retryable: false });
    expect(fake.requests).toHaveLength(1);
  });

  it('times out each attempt, retries once, then fails with 504', async () => {
    // The server would answer after 10 s: two 150 ms attempts and the retry delay end long before,
    // with seconds to spare for a starved test process.
    fake.setLatency(10_000);
    const started = Date.now();
    const err = await rejection(make({ timeoutMs: 150 }).transcribe({ url: fake.rawUrl, pcm16k: speech }));
    expect(err).toMatchObject({ code: 'stt_failed', status: 504, retryable: true });
    expect(fake.requests).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('aborts an in-flight request at once, without retry, and the server sees the disconnect', async () => {
    fake.setLatency(10_000);
    const ac = new AbortController();
    const p = make().transcribe({ url: fake.transcriptionsUrl, pcm16k: speech, signal: ac.signal });
    // Aborted while the server holds the request (it answers only after 10 s).
    await waitUntil(() => fake.inFlight === 1, 5000, 5);
    const abortedAt = Date.now();
    ac.abort();
    const err = await rejection(p);
    expect(err).toMatchObject({ code: 'stt_aborted', retryable: false });
    expect(Date.now() - abortedAt).toBeLessThan(3000);
    await waitUntil(() => fake.inFlight === 0, 5000, 5); // the server sees the disconnect
    expect(fake.requests).toHaveLength(1);
  });

  it('rejects an already-aborted signal and empty audio without a request', async () => {
    const c = make();
    expect((await rejection(c.transcribe({ url: fake.rawUrl, pcm16k: speech, signal: AbortSignal.abort() }))).code).toBe('stt_aborted');
    expect(await rejection(c.transcribe({ url: fake.rawUrl, pcm16k: new Int16Array(0) }))).toMatchObject({ code: 'stt_failed', status: 400 });
    expect(await rejection(c.transcribe({ url: 'not a url', pcm16k: speech }))).toMatchObject({ code: 'stt_failed', retryable: false });
    expect(fake.requests).toHaveLength(0);
  });

  it('never has more than maxConcurrent requests in flight', async () => {
    fake.setLatency(60);
    const c = make({ maxConcurrent: 2 });
    const results = await Promise.all(Array.from({ length: 7 }, () => c.transcribe({ url: fake.rawUrl, pcm16k: speech })));
    expect(results).toHaveLength(7);
    expect(fake.requests).toHaveLength(7);
    expect(fake.maxInFlight).toBe(2);
    expect(c.active).toBe(0);
  });

  it('rejects fast with retryable stt_overloaded when the wait queue is full', async () => {
    fake.setLatency(200);
    const c = make({ maxConcurrent: 1, maxQueue: 2 });
    const ok = [0, 1, 2].map(() => c.transcribe({ url: fake.rawUrl, pcm16k: speech }));
    const started = Date.now();
    const err = await rejection(c.transcribe({ url: fake.rawUrl, pcm16k: speech }));
    expect(err).toMatchObject({ code: 'stt_overloaded', retryable: true });
    expect(Date.now() - started).toBeLessThan(100);
    expect((await Promise.all(ok)).map((r) => r.text).sort()).toEqual(['utterance 1', 'utterance 2', 'utterance 3']);
    expect(fake.maxInFlight).toBe(1);
  });

  it('aborting a queued request frees its place without sending it', async () => {
    fake.setLatency(150);
    const c = make({ maxConcurrent: 1 });
    const first = c.transcribe({ url: fake.rawUrl, pcm16k: speech });
    const ac = new AbortController();
    const queued = c.transcribe({ url: fake.rawUrl, pcm16k: speech, signal: ac.signal });
    expect(c.queued).toBe(1);
    ac.abort();
    expect((await rejection(queued)).code).toBe('stt_aborted');
    await first;
    expect(fake.requests).toHaveLength(1);
  });

  it('survives an outage: retryable failure while down, success once up (own keep-alive agent)', async () => {
    const c = make({ httpAgent: undefined });
    expect((await c.transcribe({ url: fake.rawUrl, pcm16k: speech })).text).toBe('utterance 1');
    fake.down();
    const err = await rejection(c.transcribe({ url: fake.rawUrl, pcm16k: speech }));
    expect(err).toMatchObject({ code: 'stt_failed', retryable: true });
    fake.up();
    expect((await c.transcribe({ url: fake.rawUrl, pcm16k: speech })).text).toBe('utterance 2');
  });

  it('reuses keep-alive connections', async () => {
    const c = make();
    for (let i = 0; i < 3; i += 1) await c.transcribe({ url: fake.rawUrl, pcm16k: speech });
    expect(new Set(fake.requests.map((r) => r.remotePort)).size).toBe(1);
    expect(fake.requests[0]!.headers.connection).toBe('keep-alive');
  });
});
