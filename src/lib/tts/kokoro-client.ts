/**
 * HTTP client for Kokoro-compatible TTS servers (docs/design.md §Contracts, TTS), implementing the
 * TextToSpeech port (port.ts). Two request shapes, chosen by the URL path so users of either server
 * keep their KOKORO_URL unchanged:
 * - `…/v1/audio/speech` → OpenAI / Kokoro-FastAPI JSON `{model, input, voice, response_format, speed}`;
 * - anything else → the original product's `{text, voice, format, sampleRate}`.
 * The response may be a WAV at any rate (sniffed by its RIFF header, not trusted from
 * Content-Type) or raw little-endian PCM16 at the declared rate.
 */
import type http from 'node:http';
import type https from 'node:https';
import axios, { AxiosError } from 'axios';
import { AppError } from '../errors';
import { isWav, parseWav, pcm16leToSamples } from '../audio/wav';
import type { GuardedLookup } from '../net/guarded-lookup';
import type { TextToSpeech, TtsAudio, TtsRequest } from './port';

export interface KokoroClientOptions {
  /** Deadline for the whole request, body included. */
  timeoutMs: number;
  httpAgent?: http.Agent;
  httpsAgent?: https.Agent;
  /** DNS lookup for new connections (tenant URLs: guardedLookup refuses internal addresses). */
  lookup?: GuardedLookup;
  /** Largest response accepted; a runaway server must not exhaust memory. */
  maxBytes?: number;
}

const DEFAULT_MAX_BYTES = 20 * 1024 * 1024;

export function isOpenAiSpeechUrl(url: string): boolean {
  return new URL(url).pathname.replace(/\/+$/, '').endsWith('/v1/audio/speech');
}

export function buildKokoroBody(req: TtsRequest): Record<string, unknown> {
  const format = req.format ?? 'wav';
  if (isOpenAiSpeechUrl(req.url)) {
    return { model: 'kokoro', input: req.text, voice: req.voice, response_format: format, speed: req.speed ?? 1 };
  }
  // The original servers know no speed field; it is left out rather than risk a strict validator.
  return { text: req.text, voice: req.voice, format, sampleRate: req.sampleRate };
}

/** Rate declared for raw PCM: `x-sample-rate`, else `rate=` in Content-Type, else undefined. */
export function declaredPcmRate(headers: Record<string, unknown>): number | undefined {
  const valid = (n: number) => (Number.isInteger(n) && n >= 4000 && n <= 192000 ? n : undefined);
  const header = headers['x-sample-rate'];
  if (header !== undefined && header !== null && String(header).trim() !== '') {
    const n = valid(Number(String(header).trim()));
    if (n) return n;
  }
  const m = /(?:^|;)\s*rate\s*=\s*"?(\d+)/i.exec(String(headers['content-type'] ?? ''));
  return m ? valid(Number(m[1])) : undefined;
}

const fail = (message: string, opts: { status?: number; retryable: boolean; cause?: unknown; details?: Record<string, unknown> }) =>
  new AppError('tts_failed', message, { ...opts, status: opts.status ?? 502 });

function toAppError(err: unknown, req: TtsRequest, timeoutMs: number): AppError {
  if (err instanceof AppError) return err;
  const host = safeOrigin(req.url);
  if (req.signal?.aborted) return new AppError('tts_aborted', 'TTS request aborted by the caller', { status: 499, cause: err });
  if (err instanceof AxiosError) {
    const status = err.response?.status;
    if (status !== undefined) {
      const body = Buffer.from((err.response?.data as ArrayBuffer | undefined) ?? new ArrayBuffer(0)).toString('utf8', 0, 300);
      // 408/429 and 5xx are the server's transient state; other 4xx mean our request is wrong.
      const retryable = status >= 500 || status === 408 || status === 429;
      return fail(`TTS server ${host} answered HTTP ${status}`, { retryable, cause: err, details: { status, body } });
    }
    if (err.code === AxiosError.ERR_BAD_RESPONSE) {
      // e.g. maxContentLength exceeded: repeating the request yields the same oversized answer.
      return fail(`TTS server ${host} sent an unusable response: ${err.message}`, { retryable: false, cause: err });
    }
    if (err.code === AxiosError.ERR_CANCELED || err.code === AxiosError.ECONNABORTED || err.code === 'ETIMEDOUT') {
      return fail(`TTS server ${host} timed out after ${timeoutMs} ms`, { status: 504, retryable: true, cause: err });
    }
    return fail(`TTS server ${host} unreachable: ${err.code ?? err.message}`, { retryable: true, cause: err });
  }
  return fail(`TTS request to ${host} failed: ${err instanceof Error ? err.message : String(err)}`, { retryable: true, cause: err });
}

/** Origin only: a TTS URL could carry credentials in its query string. */
function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid url)';
  }
}

function decodeAudio(buf: Buffer, headers: Record<string, unknown>, req: TtsRequest): TtsAudio {
  if (buf.length === 0) throw fail('TTS server returned no audio', { retryable: false });
  if (isWav(buf)) {
    let wav;
    try {
      wav = parseWav(buf);
    } catch (err) {
      throw fail(`TTS server returned an unreadable WAV: ${(err as Error).message}`, { retryable: false, cause: err });
    }
    if (wav.samples.length === 0) throw fail('TTS server returned a WAV without samples', { retryable: false });
    return { samples: wav.samples, sampleRate: wav.sampleRate };
  }
  const contentType = String(headers['content-type'] ?? '').toLowerCase();
  if (/json|text|html|xml/.test(contentType)) {
    throw fail(`TTS server returned ${contentType.split(';')[0]} instead of audio`, {
      retryable: false,
      details: { body: buf.toString('utf8', 0, 300) },
    });
  }
  const samples = pcm16leToSamples(buf);
  if (samples.length === 0) throw fail('TTS server returned no audio', { retryable: false });
  return { samples, sampleRate: declaredPcmRate(headers) ?? req.sampleRate };
}

export function createKokoroClient(opts: KokoroClientOptions): TextToSpeech {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const http = axios.create({
    httpAgent: opts.httpAgent,
    httpsAgent: opts.httpsAgent,
    ...(opts.lookup ? { lookup: opts.lookup } : {}),
    responseType: 'arraybuffer',
    maxContentLength: maxBytes,
    maxBodyLength: 1024 * 1024,
    maxRedirects: 0,
    // axios' own timeout is a socket-idle timeout; the abort signal below bounds the whole exchange.
    timeout: opts.timeoutMs,
    decompress: true,
  });
  return {
    async synthesize(req) {
      if (req.text.trim() === '') throw new AppError('tts_failed', 'nothing to synthesize: empty text', { status: 400 });
      const deadline = AbortSignal.timeout(opts.timeoutMs);
      const signal = req.signal ? AbortSignal.any([req.signal, deadline]) : deadline;
      try {
        const res = await http.post<ArrayBuffer>(req.url, buildKokoroBody(req), {
          signal,
          headers: { 'content-type': 'application/json', accept: 'audio/wav, audio/*;q=0.9, */*;q=0.1' },
        });
        return decodeAudio(Buffer.from(res.data), res.headers as Record<string, unknown>, req);
      } catch (err) {
        throw toAppError(err, req, opts.timeoutMs);
      }
    },
  };
}
