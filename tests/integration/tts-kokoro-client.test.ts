import http from 'node:http';
import { AppError } from '../../src/lib/errors';
import { createKokoroClient } from '../../src/lib/tts/kokoro-client';
import { expectedDurationMs, startFakeKokoro, type FakeKokoro } from '../fakes/fake-kokoro';

async function rejection(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected a rejection');
}

const samplesFor = (text: string, rate: number, speed = 1) => Math.round((expectedDurationMs(text, speed) / 1000) * rate);

describe('kokoro client against a real HTTP fake', () => {
  const agent = new http.Agent({ keepAlive: true });
  const client = createKokoroClient({ timeoutMs: 2000, httpAgent: agent });
  let fake: FakeKokoro;
  beforeEach(async () => {
    fake = await startFakeKokoro({ sampleRate: 24000 });
  });
  afterEach(async () => {
    await fake.close();
  });
  afterAll(() => agent.destroy());

  it('speaks the OpenAI/Kokoro-FastAPI shape to /v1/audio/speech and decodes the WAV at its native rate', async () => {
    const text = 'Thanks for calling, how can I help?';
    const audio = await client.synthesize({ url: fake.speechUrl, text, voice: 'af_heart', sampleRate: 8000, speed: 1.25 });
    expect(audio.sampleRate).toBe(24000);
    expect(audio.samples.length).toBe(samplesFor(text, 24000, 1.25));
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]!.shape).toBe('openai');
    expect(fake.requests[0]!.body).toEqual({ model: 'kokoro', input: text, voice: 'af_heart', response_format: 'wav', speed: 1.25 });
    expect(fake.requests[0]!.headers['content-type']).toContain('application/json');
  });

  it('speaks the original shape to any other path and gets audio at the requested rate', async () => {
    const audio = await client.synthesize({ url: fake.ttsUrl, text: 'Hello', voice: 'af_bella', sampleRate: 16000 });
    expect(audio.sampleRate).toBe(16000);
    expect(audio.samples.length).toBe(samplesFor('Hello', 16000));
    expect(fake.requests[0]).toMatchObject({ path: '/tts', shape: 'original', body: { text: 'Hello', voice: 'af_bella', format: 'wav', sampleRate: 16000 } });
  });

  it('decodes raw PCM at the declared rate (OpenAI response_format pcm)', async () => {
    const audio = await client.synthesize({ url: fake.speechUrl, text: 'Raw please', voice: 'af_heart', sampleRate: 8000, format: 'pcm' });
    expect(audio.sampleRate).toBe(24000);
    expect(audio.samples.length).toBe(samplesFor('Raw please', 24000));
    expect(fake.requests[0]!.body.response_format).toBe('pcm');
  });

  it('falls back to the requested rate for raw PCM without a declared rate', async () => {
    const silent = await startFakeKokoro({ respondWith: 'pcm', declarePcmRate: false });
    try {
      const audio = await client.synthesize({ url: silent.ttsUrl, text: 'Undeclared', voice: 'v', sampleRate: 22050 });
      expect(audio.sampleRate).toBe(22050);
      expect(audio.samples.length).toBe(samplesFor('Undeclared', 22050));
      // raw samples are the same tone the WAV would carry
      const wav = await client.synthesize({ url: fake.ttsUrl, text: 'Undeclared', voice: 'v', sampleRate: 22050 });
      expect(Array.from(audio.samples.slice(0, 50))).toEqual(Array.from(wav.samples.slice(0, 50)));
    } finally {
      await silent.close();
    }
  });

  it('reports 5xx as retryable tts_failed and 4xx as not retryable', async () => {
    fake.failNext(503);
    const e5 = await rejection(client.synthesize({ url: fake.speechUrl, text: 'x', voice: 'v', sampleRate: 24000 }));
    expect(e5).toMatchObject({ code: 'tts_failed', retryable: true });
    expect(e5.details).toMatchObject({ status: 503 });

    fake.failNext(500);
    expect(await rejection(client.synthesize({ url: fake.ttsUrl, text: 'x', voice: 'v', sampleRate: 24000 }))).toMatchObject({ retryable: true });

    // a real validation failure from the server: unsupported sample rate
    const e4 = await rejection(client.synthesize({ url: fake.ttsUrl, text: 'x', voice: 'v', sampleRate: 96000 }));
    expect(e4).toMatchObject({ code: 'tts_failed', retryable: false });
    expect(e4.details).toMatchObject({ status: 400 });
    expect(String(e4.details?.body)).toContain('sampleRate');

    fake.failNext(429);
    expect(await rejection(client.synthesize({ url: fake.ttsUrl, text: 'x', voice: 'v', sampleRate: 24000 }))).toMatchObject({ retryable: true });
    // after the injected failures the server works again
    await expect(client.synthesize({ url: fake.ttsUrl, text: 'ok', voice: 'v', sampleRate: 24000 })).resolves.toBeDefined();
  });

  it('times out a slow server as a retryable error', async () => {
    fake.setLatency(10_000); // far beyond the 150 ms timeout, with seconds to spare for a starved test process
    const fast = createKokoroClient({ timeoutMs: 150 });
    const t0 = Date.now();
    const err = await rejection(fast.synthesize({ url: fake.speechUrl, text: 'slow', voice: 'v', sampleRate: 24000 }));
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(err).toMatchObject({ code: 'tts_failed', retryable: true, status: 504 });
  });

  it('treats connection refused as retryable and a caller abort as tts_aborted', async () => {
    const down = await rejection(client.synthesize({ url: 'http://127.0.0.1:1/tts', text: 'x', voice: 'v', sampleRate: 24000 }));
    expect(down).toMatchObject({ code: 'tts_failed', retryable: true });

    fake.setLatency(10_000); // the abort always comes first, however late its timer fires
    const ac = new AbortController();
    const p = client.synthesize({ url: fake.ttsUrl, text: 'x', voice: 'v', sampleRate: 24000, signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    expect(await rejection(p)).toMatchObject({ code: 'tts_aborted', retryable: false });
  });

  it('rejects empty text without a request, and bounds the response size', async () => {
    expect(await rejection(client.synthesize({ url: fake.ttsUrl, text: '  ', voice: 'v', sampleRate: 24000 }))).toMatchObject({ retryable: false, status: 400 });
    expect(fake.requests).toHaveLength(0);
    const tiny = createKokoroClient({ timeoutMs: 2000, maxBytes: 1000 });
    const err = await rejection(tiny.synthesize({ url: fake.ttsUrl, text: 'a long enough sentence', voice: 'v', sampleRate: 24000 }));
    expect(err).toMatchObject({ code: 'tts_failed', retryable: false });
    expect(err.message).toMatch(/maxContentLength/);
  });

  it('rejects empty bodies and non-audio answers', async () => {
    const odd = http.createServer((req, res) => {
      req.resume();
      if (req.url === '/empty') res.writeHead(200, { 'content-type': 'audio/wav' }).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"error":"model not loaded"}');
    });
    await new Promise<void>((r) => odd.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(odd.address() as { port: number }).port}`;
    try {
      const empty = await rejection(client.synthesize({ url: `${base}/empty`, text: 'x', voice: 'v', sampleRate: 24000 }));
      expect(empty.message).toMatch(/no audio/);
      const json = await rejection(client.synthesize({ url: `${base}/json`, text: 'x', voice: 'v', sampleRate: 24000 }));
      expect(json.message).toMatch(/application\/json instead of audio/);
    } finally {
      odd.closeAllConnections();
      await new Promise((r) => odd.close(r));
    }
  });
});
