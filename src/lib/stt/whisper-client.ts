/**
 * HTTP client for Whisper-compatible STT servers (docs/design.md §Contracts, STT), implementing the
 * SpeechToText port (port.ts). The protocol follows the URL
 * path, so users of either server keep their WHISPER_URL unchanged:
 * - `…/v1/audio/transcriptions` or `…/inference` (OpenAI, faster-whisper-server, whisper.cpp) →
 *   multipart/form-data: `file` (audio.wav, audio/wav), `model`, `language` when set, `prompt` (the
 *   utterance's text so far, when the audio continues it), `response_format=json`;
 * - anything else → the original product's raw body: the WAV bytes as `Content-Type: audio/wav`,
 *   `?language=` in the query when set, `?prompt=` likewise.
 * Audio is always sent as a 16 kHz mono PCM16 WAV. Answers: JSON `{text}`, `{transcription}`,
 * `{segments:[{text}]}` (joined) or text/plain; trimmed.
 *
 * Robustness: each attempt is bounded by `timeoutMs` (whole exchange, caller signal combined);
 * ONE retry after `retryDelayMs` on network errors, timeouts and 5xx (never on 4xx or an unreadable
 * answer); keep-alive agents; at most `maxConcurrent` requests in flight per client (make one
 * client per process), excess requests wait in a FIFO of `maxQueue` (default 4 × maxConcurrent) for at
 * most `queueTimeoutMs` (default timeoutMs), else a retryable `stt_overloaded` (see src/lib/limiter.ts).
 * Errors: AppError `stt_failed` (retryable when the server or network may recover),
 * `stt_aborted` when the caller's signal fires (barge-in, hangup) — the HTTP request is cancelled.
 */
import http from 'node:http';
import https from 'node:https';
import axios, { AxiosError } from 'axios';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import { buildWav } from '../audio/wav';
import { buildMultipart } from './multipart';
import { abortedError as limiterAborted, createLimiter } from '../limiter';
import type { GuardedLookup } from '../net/guarded-lookup';
import { abortableDelay, realTimers, type Timers } from '../timers';
import { STT_SAMPLE_RATE, type SpeechToText, type TranscribeRequest } from './port';

/** The TCP keep-alive initial delay axios (1.x http adapter) sets on each request socket. */
const AXIOS_TCP_KEEPALIVE_MS = 60_000;

export type SttProtocol = 'multipart' | 'raw';
export const DEFAULT_STT_MODEL = 'whisper-1';

export interface WhisperClientOptions {
  /** Deadline for each HTTP attempt, body included. */
  timeoutMs: number;
  maxConcurrent: number;
  /** Waiting requests beyond the in-flight ones; default 4 × maxConcurrent. */
  maxQueue?: number;
  /** Longest wait for a slot; default timeoutMs. */
  queueTimeoutMs?: number;
  /** Pause before the single retry; default 100 ms. */
  retryDelayMs?: number;
  httpAgent?: http.Agent;
  httpsAgent?: https.Agent;
  /** DNS lookup for new connections (tenant URLs: guardedLookup refuses internal addresses). */
  lookup?: GuardedLookup;
  logger?: Logger;
  /** Largest answer accepted; default 1 MiB. */
  maxResponseBytes?: number;
  /** The pause before the retry. Default: real timers. */
  timers?: Timers;
}

/** The Whisper implementation of the SpeechToText port, plus its load (for shedding partials). */
export interface WhisperClient extends SpeechToText {
  readonly active: number;
  readonly queued: number;
  /** Destroys the keep-alive agents this client created (not ones passed in). */
  close(): void;
}

export function sttProtocolFor(url: string): SttProtocol {
  const path = new URL(url).pathname.replace(/\/+$/, '');
  return path.endsWith('/v1/audio/transcriptions') || path.endsWith('/inference') ? 'multipart' : 'raw';
}

export interface SttHttpRequest {
  protocol: SttProtocol;
  url: string;
  body: Buffer;
  headers: Record<string, string>;
}

export function buildSttRequest(req: TranscribeRequest): SttHttpRequest {
  const wav = buildWav(req.pcm16k, STT_SAMPLE_RATE);
  const language = req.language?.trim() || undefined;
  const prompt = req.prompt?.trim() || undefined;
  const accept = 'application/json, text/plain;q=0.9, */*;q=0.1';
  if (sttProtocolFor(req.url) === 'multipart') {
    const mp = buildMultipart([
      { name: 'file', filename: 'audio.wav', contentType: 'audio/wav', data: wav },
      { name: 'model', value: req.model?.trim() || DEFAULT_STT_MODEL },
      ...(language ? [{ name: 'language', value: language }] : []),
      ...(prompt ? [{ name: 'prompt', value: prompt }] : []),
      { name: 'response_format', value: 'json' },
    ]);
    return { protocol: 'multipart', url: req.url, body: mp.body, headers: { 'content-type': mp.contentType, accept } };
  }
  const url = new URL(req.url);
  if (language) url.searchParams.set('language', language);
  if (prompt) url.searchParams.set('prompt', prompt);
  return { protocol: 'raw', url: url.toString(), body: wav, headers: { 'content-type': 'audio/wav', accept } };
}

const fail = (message: string, opts: { status?: number; retryable: boolean; cause?: unknown; details?: Record<string, unknown> }) =>
  new AppError('stt_failed', message, { ...opts, status: opts.status ?? 502 });

function textOf(body: unknown): string | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const o = body as Record<string, unknown>;
  if (typeof o.text === 'string') return o.text.trim();
  if (typeof o.transcription === 'string') return o.transcription.trim();
  if (!Array.isArray(o.segments)) return undefined;
  return o.segments
    .map((s: unknown) => (s && typeof (s as { text?: unknown }).text === 'string' ? (s as { text: string }).text.trim() : ''))
    .filter((t) => t !== '')
    .join(' ');
}

function tryJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

/**
 * `{text}` | `{transcription}` | `{segments:[{text}]}` | text/plain → trimmed text ('' is valid:
 * silence). A JSON-looking body without a JSON Content-Type is still read as JSON when it has one of
 * those shapes; HTML/XML/binary answers are errors (a proxy's error page is not a transcript).
 */
export function parseTranscription(buf: Buffer, contentType: string): string {
  const type = contentType.toLowerCase().split(';')[0]!.trim();
  const raw = buf.toString('utf8');
  const details = { body: raw.slice(0, 300) };
  if (type.includes('json')) {
    const text = textOf(tryJson(raw));
    if (text === undefined) throw fail('STT server sent JSON without text, transcription or segments', { retryable: false, details });
    return text;
  }
  if (type === '' || (type.startsWith('text/') && !/html|xml/.test(type))) {
    const text = /^\s*\{/.test(raw) ? textOf(tryJson(raw)) : undefined;
    return text ?? raw.trim();
  }
  throw fail(`STT server returned ${type} instead of a transcript`, { retryable: false, details });
}

/** Origin only: an STT URL could carry credentials in its query string. */
function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid url)';
  }
}

interface Classified {
  error: AppError;
  /** Worth the single immediate retry: network error, timeout, 5xx. */
  retry: boolean;
}

function classify(err: unknown, url: string, timeoutMs: number, signal?: AbortSignal): Classified {
  if (signal?.aborted) return { error: limiterAborted('stt', err), retry: false };
  if (err instanceof AppError) return { error: err, retry: false };
  const host = safeOrigin(url);
  if (err instanceof AxiosError) {
    const status = err.response?.status;
    if (status !== undefined) {
      const body = Buffer.from((err.response?.data as ArrayBuffer | undefined) ?? new ArrayBuffer(0)).toString('utf8', 0, 300);
      // 408/429 may succeed later (retryable for the caller) but an immediate repeat would not help.
      const retryable = status >= 500 || status === 408 || status === 429;
      return { error: fail(`STT server ${host} answered HTTP ${status}`, { retryable, cause: err, details: { status, body } }), retry: status >= 500 };
    }
    if (err.code === AxiosError.ERR_BAD_RESPONSE) {
      return { error: fail(`STT server ${host} sent an unusable response: ${err.message}`, { retryable: false, cause: err }), retry: false };
    }
    if (err.code === AxiosError.ERR_CANCELED || err.code === AxiosError.ECONNABORTED || err.code === 'ETIMEDOUT') {
      return { error: fail(`STT server ${host} timed out after ${timeoutMs} ms`, { status: 504, retryable: true, cause: err }), retry: true };
    }
    return { error: fail(`STT server ${host} unreachable: ${err.code ?? err.message}`, { retryable: true, cause: err }), retry: true };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { error: fail(`STT request to ${host} failed: ${message}`, { retryable: true, cause: err }), retry: true };
}

export function createWhisperClient(opts: WhisperClientOptions): WhisperClient {
  if (!(opts.timeoutMs > 0)) throw new Error('timeoutMs must be > 0');
  const retryDelayMs = opts.retryDelayMs ?? 100;
  const timers = opts.timers ?? realTimers;
  const limiter = createLimiter({
    kind: 'stt',
    maxConcurrent: opts.maxConcurrent,
    maxQueue: opts.maxQueue ?? 4 * opts.maxConcurrent,
    queueTimeoutMs: opts.queueTimeoutMs ?? opts.timeoutMs,
  });
  // TCP keep-alive delay = the 60 s axios sets on every request's socket: with any other value the
  // agent (on release) and axios (on reuse) flip it back and forth, two setsockopt calls per request
  // (~100 µs of event-loop time per STT request, bench:media --profile at 200 calls).
  const ownHttp = opts.httpAgent ? undefined : new http.Agent({ keepAlive: true, keepAliveMsecs: AXIOS_TCP_KEEPALIVE_MS });
  const ownHttps = opts.httpsAgent ? undefined : new https.Agent({ keepAlive: true, keepAliveMsecs: AXIOS_TCP_KEEPALIVE_MS });
  const client = axios.create({
    httpAgent: opts.httpAgent ?? ownHttp,
    httpsAgent: opts.httpsAgent ?? ownHttps,
    ...(opts.lookup ? { lookup: opts.lookup } : {}),
    responseType: 'arraybuffer',
    maxContentLength: opts.maxResponseBytes ?? 1024 * 1024,
    maxBodyLength: Infinity,
    maxRedirects: 0,
    timeout: opts.timeoutMs,
    decompress: true,
    // The body is a Buffer already; no JSON transform.
    transformRequest: [(data: unknown) => data],
  });

  const once = async (built: SttHttpRequest, signal?: AbortSignal): Promise<string> => {
    const deadline = AbortSignal.timeout(opts.timeoutMs);
    const res = await client.post<ArrayBuffer>(built.url, built.body, {
      signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
      headers: built.headers,
    });
    return parseTranscription(Buffer.from(res.data), String(res.headers['content-type'] ?? ''));
  };

  return {
    async transcribe(req) {
      const started = performance.now();
      if (req.signal?.aborted) throw limiterAborted('stt', req.signal.reason);
      if (req.pcm16k.length === 0) throw new AppError('stt_failed', 'nothing to transcribe: no audio', { status: 400 });
      let built: SttHttpRequest;
      try {
        built = buildSttRequest(req);
      } catch (err) {
        throw fail(`invalid STT URL: ${(err as Error).message}`, { status: 500, retryable: false, cause: err });
      }
      return limiter.run(async () => {
        for (let attempt = 1; ; attempt += 1) {
          try {
            const text = await once(built, req.signal);
            return { text, latencyMs: performance.now() - started, attempts: attempt };
          } catch (err) {
            const { error, retry } = classify(err, req.url, opts.timeoutMs, req.signal);
            if (!retry || attempt >= 2) throw error;
            opts.logger?.warn(
              { err: error.message, host: safeOrigin(req.url), protocol: built.protocol, retryInMs: retryDelayMs },
              'STT request failed; retrying once',
            );
            await abortableDelay(timers, retryDelayMs, req.signal, () => limiterAborted('stt', req.signal?.reason));
          }
        }
      }, req.signal);
    },
    get active() {
      return limiter.active;
    },
    get queued() {
      return limiter.queued;
    },
    close() {
      ownHttp?.destroy();
      ownHttps?.destroy();
    },
  };
}
