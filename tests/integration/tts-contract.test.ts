/**
 * One contract for every TextToSpeech (src/lib/tts/port.ts), run against the in-memory fake and
 * against the Kokoro client talking to the Kokoro stand-in (scripts/sim/kokoro.ts) on loopback:
 * what synthesis relies on holds for both, so tests that use the fake stay honest.
 */
import { AppError } from '../../src/lib/errors';
import { createKokoroClient } from '../../src/lib/tts/kokoro-client';
import { FakeTextToSpeech } from '../../src/lib/tts/fake-tts';
import type { TextToSpeech } from '../../src/lib/tts/port';
import { startKokoroServer } from '../../scripts/sim/kokoro';

interface Subject {
  tts: TextToSpeech;
  url: string;
  /** The service is down for the next synthesis. */
  failNext(): void;
  setLatency(ms: number): void;
  /** Texts the service was asked to say. */
  said(): string[];
  close(): Promise<void>;
}

async function fakeSubject(): Promise<Subject> {
  const tts = new FakeTextToSpeech();
  return {
    tts,
    url: 'http://tts.invalid/tts',
    failNext: () => tts.failNext(),
    setLatency: (ms) => tts.setLatency(ms),
    said: () => tts.requests.map((r) => r.text),
    close: async () => undefined,
  };
}

async function kokoroSubject(): Promise<Subject> {
  const server = await startKokoroServer();
  return {
    tts: createKokoroClient({ timeoutMs: 2000 }),
    // The original request shape: audio comes back at the requested rate.
    url: server.ttsUrl,
    failNext: () => server.failNext(503),
    setLatency: (ms) => server.setLatency(ms),
    said: () => server.requests.map((r) => String(r.body.text)),
    close: () => server.close(),
  };
}

async function rejection(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof AppError)) throw new Error(`expected an AppError rejection, got ${String(err)}`);
  return err;
}

const voice = 'af_heart';

describe.each([
  ['the in-memory fake', fakeSubject],
  ['the Kokoro client against the Kokoro stand-in', kokoroSubject],
])('TextToSpeech contract: %s', (_name, make) => {
  let s: Subject;
  beforeEach(async () => {
    s = await make();
  });
  afterEach(async () => {
    await s.close();
  });

  it('answers mono PCM16 at the requested rate for the text asked', async () => {
    const audio = await s.tts.synthesize({ url: s.url, text: 'Hello there.', voice, sampleRate: 16000 });
    expect(audio.sampleRate).toBe(16000);
    expect(audio.samples).toBeInstanceOf(Int16Array);
    expect(audio.samples.length).toBeGreaterThan(0);
    expect(audio.samples.some((v) => v !== 0)).toBe(true);
    expect(s.said()).toEqual(['Hello there.']);
  });

  it('answers a longer text with longer audio', async () => {
    const short = await s.tts.synthesize({ url: s.url, text: 'Hi.', voice, sampleRate: 8000 });
    const long = await s.tts.synthesize({ url: s.url, text: 'Thank you for calling, how can I help you today?', voice, sampleRate: 8000 });
    expect(long.samples.length).toBeGreaterThan(short.samples.length);
  });

  it('refuses empty text with a non-retryable tts_failed 400, sending nothing', async () => {
    const err = await rejection(s.tts.synthesize({ url: s.url, text: '  ', voice, sampleRate: 16000 }));
    expect(err).toMatchObject({ code: 'tts_failed', status: 400, retryable: false });
    expect(s.said()).toEqual([]);
  });

  it('rejects with tts_aborted when the signal already fired', async () => {
    const err = await rejection(s.tts.synthesize({ url: s.url, text: 'Hello.', voice, sampleRate: 16000, signal: AbortSignal.abort() }));
    expect(err.code).toBe('tts_aborted');
  });

  it('rejects with tts_aborted when the signal fires while the service works', async () => {
    s.setLatency(5000);
    const ac = new AbortController();
    const pending = rejection(s.tts.synthesize({ url: s.url, text: 'Hello.', voice, sampleRate: 16000, signal: ac.signal }));
    ac.abort();
    expect((await pending).code).toBe('tts_aborted');
  });

  it('reports a service outage as a retryable tts_failed, then recovers', async () => {
    s.failNext();
    const err = await rejection(s.tts.synthesize({ url: s.url, text: 'Hello.', voice, sampleRate: 16000 }));
    expect(err).toMatchObject({ code: 'tts_failed', retryable: true });
    await expect(s.tts.synthesize({ url: s.url, text: 'Hello.', voice, sampleRate: 16000 })).resolves.toMatchObject({ sampleRate: 16000 });
  });
});
