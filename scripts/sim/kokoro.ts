/**
 * A local Kokoro-compatible TTS server (the test fake and the demo's/load test's TTS stand-in;
 * tests/fakes/fake-kokoro.ts re-exports it) speaking both request shapes of docs/design.md §Contracts:
 * - POST …/v1/audio/speech: OpenAI / Kokoro-FastAPI `{model, input, voice, response_format, speed}`,
 *   audio at the server's own rate (`sampleRate` option), like Kokoro-FastAPI (always 24 kHz);
 * - POST anything else (e.g. /tts): the original `{text, voice, format, sampleRate}`, audio at the
 *   requested rate.
 * Audio is a deterministic 440 Hz tone lasting 60 ms per character (min 300 ms), divided by speed,
 * unless a `synthesize` engine is given (the demo passes espeak-ng); its audio is resampled to the
 * rate the request shape promises.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildWav } from '../../src/lib/audio/wav';
import { resample } from './audio';
import { listen, closeServer } from './listen';

export interface KokoroServerOptions {
  sampleRate?: number;
  latencyMs?: number;
  /** Answer with a WAV or raw PCM16 LE (OpenAI `response_format:"pcm"` always gets PCM). */
  respondWith?: 'wav' | 'pcm';
  /** For PCM answers: declare the rate in `x-sample-rate` and Content-Type (default true). */
  declarePcmRate?: boolean;
  /** Length of the tone per character (default MS_PER_CHAR). */
  toneMsPerChar?: number;
  /** Real speech instead of the tone: text → mono PCM16 at any rate (resampled to the answer's rate). */
  synthesize?: (text: string, speed: number) => Promise<{ samples: Int16Array; sampleRate: number }>;
  /** Listen address (default 127.0.0.1) and port (default 0). */
  host?: string;
  port?: number;
  /** Keep at most this many recorded requests (oldest dropped first; default unbounded). */
  maxRecorded?: number;
  /** Answer a repeated request (same text, rate, speed, format) from memory (stand-in use under load). */
  cacheResponses?: boolean;
}

export interface RecordedRequest {
  path: string;
  shape: 'openai' | 'original';
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export interface KokoroServer {
  /** Origin, e.g. http://127.0.0.1:1234 */
  url: string;
  speechUrl: string;
  ttsUrl: string;
  requests: RecordedRequest[];
  /** The next `times` requests are answered with `status` and a JSON error body. */
  failNext(status: number, times?: number): void;
  setLatency(ms: number): void;
  close(): Promise<void>;
}

export const MS_PER_CHAR = 60;
export const MIN_MS = 300;

export function expectedDurationMs(text: string, speed = 1): number {
  return Math.max(MIN_MS, text.length * MS_PER_CHAR) / speed;
}

export function tone(durationMs: number, sampleRate: number): Int16Array {
  const n = Math.round((durationMs / 1000) * sampleRate);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i += 1) out[i] = Math.round(0.3 * 32767 * Math.sin((2 * Math.PI * 440 * i) / sampleRate));
  return out;
}

type Parsed = { ok: true; text: string; rate: number; pcm: boolean; speed: number } | { ok: false; error: string };

function validate(shape: RecordedRequest['shape'], b: Record<string, unknown>, serverRate: number, respondWith: string): Parsed {
  const str = (k: string) => typeof b[k] === 'string' && (b[k] as string).trim() !== '';
  if (shape === 'openai') {
    if (b.model !== 'kokoro') return { ok: false, error: 'model must be "kokoro"' };
    if (!str('input')) return { ok: false, error: 'input is required' };
    if (!str('voice')) return { ok: false, error: 'voice is required' };
    const fmt = b.response_format ?? 'mp3';
    if (fmt !== 'wav' && fmt !== 'pcm') return { ok: false, error: `unsupported response_format ${String(fmt)}` };
    const speed = b.speed ?? 1;
    if (typeof speed !== 'number' || speed < 0.25 || speed > 4) return { ok: false, error: 'speed must be 0.25..4' };
    return { ok: true, text: b.input as string, rate: serverRate, pcm: fmt === 'pcm' || respondWith === 'pcm', speed };
  }
  if (!str('text')) return { ok: false, error: 'text is required' };
  if (!str('voice')) return { ok: false, error: 'voice is required' };
  if (b.format !== 'wav' && b.format !== 'pcm') return { ok: false, error: 'format must be wav or pcm' };
  const rate = b.sampleRate;
  if (typeof rate !== 'number' || !Number.isInteger(rate) || rate < 8000 || rate > 48000) {
    return { ok: false, error: 'sampleRate must be an integer 8000..48000' };
  }
  return { ok: true, text: b.text as string, rate, pcm: b.format === 'pcm' || respondWith === 'pcm', speed: 1 };
}

export async function startKokoroServer(opts: KokoroServerOptions = {}): Promise<KokoroServer> {
  const serverRate = opts.sampleRate ?? 24000;
  const respondWith = opts.respondWith ?? 'wav';
  const declare = opts.declarePcmRate ?? true;
  let latencyMs = opts.latencyMs ?? 0;
  const requests: RecordedRequest[] = [];
  const failures: number[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const responseCache = new Map<string, { headers: http.OutgoingHttpHeaders; body: Buffer }>();

  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method !== 'POST') return json(res, 405, { error: 'method not allowed' });
    const shape = path.replace(/\/+$/, '').endsWith('/v1/audio/speech') ? 'openai' : 'original';
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('not an object');
    } catch {
      return json(res, 400, { error: 'body must be a JSON object' });
    }
    requests.push({ path, shape, headers: req.headers, body });
    if (opts.maxRecorded !== undefined && requests.length > opts.maxRecorded) requests.splice(0, requests.length - opts.maxRecorded);
    const failure = failures.shift();
    if (failure !== undefined) return json(res, failure, { error: `injected failure ${failure}` });
    const parsed = validate(shape, body, serverRate, respondWith);
    if (!parsed.ok) return json(res, 400, { error: parsed.error });
    const cacheKey = `${parsed.rate}|${parsed.speed}|${parsed.pcm}|${parsed.text}`;
    const hit = responseCache.get(cacheKey);
    if (hit) return res.writeHead(200, hit.headers).end(hit.body);
    let samples: Int16Array;
    if (opts.synthesize) {
      try {
        const spoken = await opts.synthesize(parsed.text, parsed.speed);
        samples = resample(spoken.samples, spoken.sampleRate, parsed.rate);
      } catch (err) {
        return json(res, 500, { error: `synthesis failed: ${(err as Error).message}` });
      }
    } else {
      const perChar = opts.toneMsPerChar ?? MS_PER_CHAR;
      samples = tone(Math.max(MIN_MS, parsed.text.length * perChar) / parsed.speed, parsed.rate);
    }
    if (res.destroyed) return;
    if (parsed.pcm) {
      const pcm = Buffer.alloc(samples.length * 2);
      samples.forEach((s, i) => pcm.writeInt16LE(s, i * 2));
      const headers: http.OutgoingHttpHeaders = { 'content-type': declare ? `audio/pcm;rate=${parsed.rate}` : 'audio/pcm' };
      if (declare) headers['x-sample-rate'] = String(parsed.rate);
      if (opts.cacheResponses) responseCache.set(cacheKey, { headers, body: pcm });
      return res.writeHead(200, headers).end(pcm);
    }
    const wav = buildWav(samples, parsed.rate);
    if (opts.cacheResponses) responseCache.set(cacheKey, { headers: { 'content-type': 'audio/wav' }, body: wav });
    res.writeHead(200, { 'content-type': 'audio/wav' }).end(wav);
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const run = () => {
        handle(req, res, Buffer.concat(chunks)).catch((err: unknown) => {
          if (!res.headersSent) json(res, 500, { error: String(err) });
        });
      };
      if (latencyMs <= 0) return run();
      const t = setTimeout(() => {
        timers.delete(t);
        if (!res.destroyed) run();
      }, latencyMs);
      timers.add(t);
    });
  });
  await listen(server, opts.host, opts.port);
  const url = `http://${opts.host ?? '127.0.0.1'}:${(server.address() as AddressInfo).port}`;

  return {
    url,
    speechUrl: `${url}/v1/audio/speech`,
    ttsUrl: `${url}/tts`,
    requests,
    failNext(status, times = 1) {
      for (let i = 0; i < times; i += 1) failures.push(status);
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    close: () => closeServer(server, timers),
  };
}
