/**
 * A local Whisper-compatible HTTP server speaking both protocols of docs/design.md §Contracts, STT (the test fake
 * and the demo's/load test's STT stand-in; tests/fakes/fake-whisper.ts re-exports it):
 * - POST …/v1/audio/transcriptions or …/inference: multipart/form-data (parsed properly; `file` must
 *   be a WAV with a filename, `model` non-empty, `response_format` json when present);
 * - POST any other path: the original raw `Content-Type: audio/wav` body, `?language=` and `?prompt=` query.
 * Every WAV must be RIFF, PCM16, mono, 16 kHz, else 400. Every request is recorded on arrival,
 * before the latency (injected failures and 400s included). Default answer: JSON
 * `{text:"utterance N"}` (N counts requests answered from 1), or the next entry of `script`, or
 * whatever `respond` returns.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { parseWav, type ParsedWav } from '../../src/lib/audio/wav';
import { listen, closeServer } from './listen';

export type SttAnswer = string | { status?: number; body: unknown; contentType?: string };

export interface WhisperServerOptions {
  latencyMs?: number;
  /** Texts answered in order; after the list runs out, the default `utterance N`. */
  script?: string[];
  /** Custom answer: a string is sent as `{text}` JSON; an object body as JSON unless it is a string. */
  respond?: (wav: ParsedWav, req: RecordedSttRequest) => SttAnswer;
  /** Listen address (default 127.0.0.1) and port (default 0). */
  host?: string;
  port?: number;
  /** Keep at most this many recorded requests (oldest dropped first; default unbounded). */
  maxRecorded?: number;
}

export interface RecordedSttRequest {
  protocol: 'multipart' | 'raw';
  path: string;
  language?: string;
  /** The text the audio continues (the runtime's incremental transcription), when sent. */
  prompt?: string;
  model?: string;
  responseFormat?: string;
  headers: http.IncomingHttpHeaders;
  /** Client port: equal ports across requests mean a reused keep-alive connection. */
  remotePort: number;
  wav?: ParsedWav;
  /** The WAV bytes as received (the `file` part for multipart). */
  raw: Buffer;
}

export interface WhisperServer {
  url: string;
  /** OpenAI-style multipart endpoint. */
  transcriptionsUrl: string;
  /** whisper.cpp-style multipart endpoint. */
  inferenceUrl: string;
  /** Original product's raw-WAV endpoint. */
  rawUrl: string;
  requests: RecordedSttRequest[];
  readonly inFlight: number;
  readonly maxInFlight: number;
  failNext(status: number, times?: number): void;
  setLatency(ms: number): void;
  /** Simulated outage: open connections are destroyed and new ones reset until up(). */
  down(): void;
  up(): void;
  close(): Promise<void>;
}

export interface MultipartPart {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

/** Strict RFC 7578 parser: CRLF delimiters, a closing `--boundary--`, Content-Disposition per part. */
export function parseMultipartBody(body: Buffer, boundary: string): MultipartPart[] {
  const delim = Buffer.from(`--${boundary}`, 'latin1');
  const sep = Buffer.from(`\r\n--${boundary}`, 'latin1');
  if (body.indexOf(delim) !== 0) throw new Error('body does not start with the boundary');
  const parts: MultipartPart[] = [];
  let pos = delim.length;
  for (;;) {
    if (body.subarray(pos, pos + 2).toString('latin1') === '--') return parts;
    if (body.subarray(pos, pos + 2).toString('latin1') !== '\r\n') throw new Error('malformed boundary line');
    const headEnd = body.indexOf('\r\n\r\n', pos + 2, 'latin1');
    if (headEnd < 0) throw new Error('part without header end');
    const next = body.indexOf(sep, headEnd + 4);
    if (next < 0) throw new Error('missing closing boundary');
    const headers = new Map<string, string>();
    for (const line of body.subarray(pos + 2, headEnd).toString('utf8').split('\r\n')) {
      const i = line.indexOf(':');
      if (i <= 0) throw new Error(`bad part header "${line}"`);
      headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
    }
    const disp = headers.get('content-disposition') ?? '';
    if (!/^form-data\s*;/i.test(disp)) throw new Error('part without form-data disposition');
    const name = /;\s*name="([^"]*)"/i.exec(disp)?.[1];
    if (name === undefined) throw new Error('part without a name');
    const filename = /;\s*filename="([^"]*)"/i.exec(disp)?.[1];
    parts.push({ name, filename, contentType: headers.get('content-type'), data: body.subarray(headEnd + 4, next) });
    pos = next + sep.length;
  }
}

class BadRequest extends Error {}

function validateWav(raw: Buffer): ParsedWav {
  let wav: ParsedWav;
  try {
    wav = parseWav(raw);
  } catch (err) {
    throw new BadRequest(`invalid WAV: ${(err as Error).message}`);
  }
  if (wav.bitsPerSample !== 16 || wav.channels !== 1 || wav.sampleRate !== 16000) {
    throw new BadRequest(`need PCM16 mono 16 kHz, got ${wav.bitsPerSample}-bit ${wav.channels}ch ${wav.sampleRate} Hz`);
  }
  if (raw.readUInt16LE(20) !== 1) throw new BadRequest('need plain PCM format tag');
  return wav;
}

const isMultipartPath = (path: string) => /\/(v1\/audio\/transcriptions|inference)\/*$/.test(path);

type Parsed = Omit<RecordedSttRequest, 'headers' | 'remotePort'>;

function readRequest(req: http.IncomingMessage, body: Buffer, path: string, url: URL): Parsed {
  const multipart = isMultipartPath(path);
  const contentType = req.headers['content-type'] ?? '';
  if (!multipart) {
    if (!/^audio\/(wav|x-wav|wave)\b/i.test(contentType)) throw new BadRequest(`raw protocol needs audio/wav, got "${contentType}"`);
    const rec: Parsed = { protocol: 'raw', path, raw: body, language: url.searchParams.get('language') ?? undefined, prompt: url.searchParams.get('prompt') ?? undefined };
    return { ...rec, wav: validateWav(body) };
  }
  const boundary = /^multipart\/form-data;\s*boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (!boundary) throw new BadRequest('multipart/form-data with a boundary required');
  let parts: MultipartPart[];
  try {
    parts = parseMultipartBody(body, boundary);
  } catch (err) {
    throw new BadRequest(`bad multipart: ${(err as Error).message}`);
  }
  const field = (n: string) => parts.find((p) => p.name === n);
  const text = (n: string) => field(n)?.data.toString('utf8');
  const file = field('file');
  if (!file || !file.filename) throw new BadRequest('file part with a filename required');
  if (file.contentType && !/^audio\//i.test(file.contentType)) throw new BadRequest(`file must be audio, got ${file.contentType}`);
  const rec: Parsed = {
    protocol: 'multipart', path, raw: Buffer.from(file.data),
    model: text('model'), language: text('language'), prompt: text('prompt'), responseFormat: text('response_format'),
  };
  if (!rec.model) throw new BadRequest('model required');
  if (rec.responseFormat !== undefined && rec.responseFormat !== 'json') throw new BadRequest('only response_format=json supported');
  return { ...rec, wav: validateWav(rec.raw) };
}

export async function startWhisperServer(opts: WhisperServerOptions = {}): Promise<WhisperServer> {
  let latencyMs = opts.latencyMs ?? 0;
  let isDown = false;
  let answered = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const script = [...(opts.script ?? [])];
  const requests: RecordedSttRequest[] = [];
  const failures: number[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();

  const send = (res: http.ServerResponse, status: number, body: unknown, contentType?: string) => {
    if (res.destroyed || res.writableEnded) return;
    const str = typeof body === 'string' && contentType !== 'application/json';
    res.writeHead(status, { 'content-type': contentType ?? (str ? 'text/plain; charset=utf-8' : 'application/json') });
    res.end(str ? (body as string) : JSON.stringify(body));
  };

  /** Parses and records at arrival; the answer (after the latency) comes from `answer`. */
  const intake = (req: http.IncomingMessage, body: Buffer): (() => [number, unknown, string?]) => {
    const url = new URL(req.url ?? '/', 'http://stt.local');
    if (req.method !== 'POST') return () => [405, { error: 'method not allowed' }];
    const base = { path: url.pathname, headers: req.headers, remotePort: req.socket.remotePort ?? 0 };
    let rec: RecordedSttRequest;
    try {
      rec = { ...readRequest(req, body, url.pathname, url), ...base };
    } catch (err) {
      requests.push({ protocol: isMultipartPath(url.pathname) ? 'multipart' : 'raw', raw: body, ...base });
      return () => [err instanceof BadRequest ? 400 : 500, { error: (err as Error).message }];
    }
    requests.push(rec);
    if (opts.maxRecorded !== undefined && requests.length > opts.maxRecorded) requests.splice(0, requests.length - opts.maxRecorded);
    const failure = failures.shift();
    if (failure !== undefined) return () => [failure, { error: `injected failure ${failure}` }];
    return () => {
      answered += 1;
      const answer: SttAnswer = opts.respond ? opts.respond(rec.wav!, rec) : (script.shift() ?? `utterance ${answered}`);
      if (typeof answer === 'string') return [200, { text: answer }];
      return [answer.status ?? 200, answer.body, answer.contentType];
    };
  };

  const server = http.createServer((req, res) => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let done = false;
    res.on('close', () => {
      if (!done) inFlight -= 1;
      done = true;
    });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = intake(req, Buffer.concat(chunks));
      const run = () => {
        try {
          send(res, ...answer());
        } catch (err) {
          send(res, 500, { error: `stand-in failed: ${String(err)}` });
        }
      };
      if (latencyMs <= 0) return run();
      const t = setTimeout(() => {
        timers.delete(t);
        if (!res.destroyed) run();
      }, latencyMs);
      timers.add(t);
      res.on('close', () => {
        clearTimeout(t);
        timers.delete(t);
      });
    });
  });
  server.on('connection', (socket: Socket) => {
    if (isDown) return socket.destroy();
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await listen(server, opts.host, opts.port);
  const url = `http://${opts.host ?? '127.0.0.1'}:${(server.address() as AddressInfo).port}`;

  return {
    url,
    transcriptionsUrl: `${url}/v1/audio/transcriptions`,
    inferenceUrl: `${url}/inference`,
    rawUrl: `${url}/stt`,
    requests,
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    failNext(status, times = 1) {
      for (let i = 0; i < times; i += 1) failures.push(status);
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    down() {
      isDown = true;
      for (const s of sockets) s.destroy();
    },
    up() {
      isDown = false;
    },
    close: () => closeServer(server, timers),
  };
}
