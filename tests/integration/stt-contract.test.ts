/**
 * One contract for every SpeechToText (src/lib/stt/port.ts), run against the in-memory fake and
 * against the Whisper client talking to the Whisper stand-in (scripts/sim/whisper.ts) on loopback:
 * what the speech pipeline relies on holds for both, so tests that use the fake stay honest.
 */
import http from 'node:http';
import { AppError } from '../../src/lib/errors';
import { FakeSpeechToText } from '../../src/lib/stt/fake-stt';
import type { SpeechToText } from '../../src/lib/stt/port';
import { createWhisperClient } from '../../src/lib/stt/whisper-client';
import { startWhisperServer } from '../../scripts/sim/whisper';

interface Subject {
  stt: SpeechToText;
  url: string;
  /** The service's next answer. */
  answer(text: string): void;
  /** The service is down for the next transcription. */
  failNext(): void;
  setLatency(ms: number): void;
  /** Requests the service received (a retry counts). */
  received(): number;
  /** The language and prompt of the last request received. */
  lastContext(): { language?: string; prompt?: string };
  close(): Promise<void>;
}

async function fakeSubject(): Promise<Subject> {
  const stt = new FakeSpeechToText();
  return {
    stt,
    url: 'http://stt.invalid/v1/audio/transcriptions',
    answer: (text) => stt.say(text),
    failNext: () => stt.failNext(),
    setLatency: (ms) => stt.setLatency(ms),
    received: () => stt.requests.length,
    lastContext: () => ({ language: stt.requests.at(-1)?.language, prompt: stt.requests.at(-1)?.prompt }),
    close: async () => undefined,
  };
}

async function whisperSubject(): Promise<Subject> {
  const answers: string[] = [];
  const server = await startWhisperServer({ respond: () => answers.shift() ?? 'unscripted' });
  const agent = new http.Agent({ keepAlive: true });
  const stt = createWhisperClient({ timeoutMs: 2000, maxConcurrent: 2, httpAgent: agent, retryDelayMs: 5 });
  return {
    stt,
    url: server.transcriptionsUrl,
    answer: (text) => answers.push(text),
    // The client retries a 5xx once: both attempts fail.
    failNext: () => server.failNext(503, 2),
    setLatency: (ms) => server.setLatency(ms),
    received: () => server.requests.length,
    lastContext: () => ({ language: server.requests.at(-1)?.language, prompt: server.requests.at(-1)?.prompt }),
    close: async () => {
      stt.close();
      agent.destroy();
      await server.close();
    },
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

/** 200 ms of a 300 Hz tone at 16 kHz. */
const speech = Int16Array.from({ length: 3200 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 300 * i) / 16000)));

describe.each([
  ['the in-memory fake', fakeSubject],
  ['the Whisper client against the Whisper stand-in', whisperSubject],
])('SpeechToText contract: %s', (_name, make) => {
  let s: Subject;
  beforeEach(async () => {
    s = await make();
  });
  afterEach(async () => {
    await s.close();
  });

  it('answers the service text, trimmed, with its latency and one attempt', async () => {
    s.answer('  hello there \n');
    const t = await s.stt.transcribe({ url: s.url, pcm16k: speech, language: 'en' });
    expect(t.text).toBe('hello there');
    expect(t.attempts).toBe(1);
    expect(t.latencyMs).toBeGreaterThanOrEqual(0);
    expect(s.received()).toBe(1);
  });

  it('passes the language and the text the audio continues (prompt), and no prompt when there is none', async () => {
    s.answer('tomorrow morning.');
    await s.stt.transcribe({ url: s.url, pcm16k: speech, language: 'en', prompt: 'I would like to book an appointment for' });
    expect(s.lastContext()).toEqual({ language: 'en', prompt: 'I would like to book an appointment for' });
    s.answer('hello');
    await s.stt.transcribe({ url: s.url, pcm16k: speech });
    expect(s.lastContext()).toEqual({ language: undefined, prompt: undefined });
  });

  it('answers silence as empty text, not an error', async () => {
    s.answer('');
    await expect(s.stt.transcribe({ url: s.url, pcm16k: speech })).resolves.toMatchObject({ text: '' });
  });

  it('answers requests in the order the service answered them', async () => {
    s.answer('first');
    s.answer('second');
    expect((await s.stt.transcribe({ url: s.url, pcm16k: speech })).text).toBe('first');
    expect((await s.stt.transcribe({ url: s.url, pcm16k: speech })).text).toBe('second');
  });

  it('refuses empty audio with a non-retryable stt_failed 400, sending nothing', async () => {
    const err = await rejection(s.stt.transcribe({ url: s.url, pcm16k: new Int16Array(0) }));
    expect(err).toMatchObject({ code: 'stt_failed', status: 400, retryable: false });
    expect(s.received()).toBe(0);
  });

  it('rejects with stt_aborted when the signal already fired, sending nothing', async () => {
    const err = await rejection(s.stt.transcribe({ url: s.url, pcm16k: speech, signal: AbortSignal.abort() }));
    expect(err.code).toBe('stt_aborted');
    expect(s.received()).toBe(0);
  });

  it('rejects with stt_aborted when the signal fires while the service works', async () => {
    s.setLatency(5000);
    const ac = new AbortController();
    const pending = rejection(s.stt.transcribe({ url: s.url, pcm16k: speech, signal: ac.signal }));
    await waitFor(() => s.received() === 1);
    ac.abort();
    expect((await pending).code).toBe('stt_aborted');
  });

  it('reports a service outage as a retryable stt_failed, then recovers', async () => {
    s.failNext();
    const err = await rejection(s.stt.transcribe({ url: s.url, pcm16k: speech }));
    expect(err).toMatchObject({ code: 'stt_failed', retryable: true });
    s.answer('back');
    await expect(s.stt.transcribe({ url: s.url, pcm16k: speech })).resolves.toMatchObject({ text: 'back' });
  });
});

/** Polls a condition the subject exposes no event for (a request reaching the service), every 5 ms. */
async function waitFor(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}
