/**
 * HTTP client for the brain (docs/design.md §Contracts, the brain).
 *
 * Streaming enabled → `POST ${baseUrl}${streamPath}` with `Accept: text/event-stream`, parsed
 * incrementally (sse-parser.ts); every `token` goes to onToken at once; the final text is
 * `done.text ?? concatenated tokens` (a clean end of the body without `done` counts as done).
 * Fallback to `POST ${baseUrl}/reply` only while nothing was delivered: connection error, HTTP
 * 404/405/406/5xx, a non-`text/event-stream` answer, or an empty stream. After 404/405/406/non-SSE the
 * client skips the stream endpoint for `streamRetryMs` (the brain has none; avoid a wasted round trip
 * per turn). An `error` event, a malformed stream, or any failure after tokens were delivered never
 * falls back (that would repeat speech): the BrainError carries `partialText`.
 *
 * Bounds: the whole reply() (stream attempt + fallback) by `timeoutMs` → `brain_timeout`; on the
 * stream, no event/comment (pings included) for `pingMs` → dead: request destroyed, `brain_timeout`.
 * The caller's signal destroys the request at once → `brain_aborted`. Keep-alive agents.
 * Implements the Brain port (port.ts); without BRAIN_URL the composition root picks the local brain instead.
 */
import http from 'node:http';
import https from 'node:https';
import type { Logger } from '../logger';
import { realTimers, type CancelTimer, type Timers } from '../timers';
import { decodeBrainEvent, SseParser } from './sse-parser';
import {
  brainAborted,
  BrainError,
  type Brain,
  type BrainReply,
  type BrainReplyOptions,
  type BrainRequest,
  type BrainResult,
  type BrainTransfer,
} from './port';
import { brainWireBody, parseReplyBody } from './wire';

export interface BrainClientOptions {
  /** BRAIN_URL. */
  baseUrl: string;
  /** BRAIN_TIMEOUT_MS: bound for the whole reply(), fallback included. */
  timeoutMs: number;
  /** BRAIN_STREAMING_ENABLED */
  streamingEnabled: boolean;
  /** BRAIN_STREAM_PATH, e.g. "/reply/stream". */
  streamPath: string;
  /** BRAIN_STREAM_PING_MS: longest silence on the stream before it counts as dead. */
  pingMs: number;
  logger?: Logger;
  httpAgent?: http.Agent;
  httpsAgent?: https.Agent;
  /** Largest `/reply` body accepted; default 1 MiB. */
  maxResponseBytes?: number;
  /** How long to skip a stream endpoint that answered 404/405/406 or non-SSE; default 60 s, 0 = never skip. */
  streamRetryMs?: number;
  /** The deadline, idle and lingering-response timers. Default: real timers. */
  timers?: Timers;
}

type Why = 'caller' | 'deadline' | 'idle';
/** Internal: the stream attempt failed before anything was delivered; use `/reply`. */
class Fallback { constructor(readonly reason: string, readonly unsupported = false) {} } // prettier-ignore

function resultOf(reply: BrainReply, source: 'stream' | 'reply', firstTokenMs: number | undefined): BrainResult {
  const { text, transfer } = reply;
  return { text, ...(transfer ? { transfer } : {}), streamed: source === 'stream', source, ...(firstTokenMs !== undefined ? { firstTokenMs } : {}) };
}

function send(url: URL, body: string, headers: Record<string, string>, signal: AbortSignal, agent: http.Agent): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(url, {
      method: 'POST',
      agent,
      signal,
      headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
    }, resolve);
    req.on('error', reject);
    req.end(body);
  });
}

function readBody(res: http.IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) {
        res.destroy();
        reject(new BrainError('brain_failed', `brain answer larger than ${maxBytes} bytes`, { retryable: false }));
      } else chunks.push(c);
    });
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', () => undefined);
    res.on('close', () => {
      if (!res.complete) reject(new Error('connection closed before the answer was complete'));
    });
  });
}

const contentType = (res: http.IncomingMessage) => String(res.headers['content-type'] ?? '').toLowerCase().split(';')[0]!.trim();

export function createBrainClient(opts: BrainClientOptions): Brain {
  if (!(opts.timeoutMs > 0) || !(opts.pingMs > 0)) throw new Error('timeoutMs and pingMs must be > 0');
  const base = opts.baseUrl.replace(/\/+$/, '');
  const streamUrl = new URL(`${base}${opts.streamPath}`);
  const replyUrl = new URL(`${base}/reply`);
  const host = replyUrl.origin;
  const maxBytes = opts.maxResponseBytes ?? 1024 * 1024;
  const streamRetryMs = opts.streamRetryMs ?? 60_000;
  const timers = opts.timers ?? realTimers;
  const ownHttp = opts.httpAgent ? undefined : new http.Agent({ keepAlive: true, keepAliveMsecs: 1000 });
  const ownHttps = opts.httpsAgent ? undefined : new https.Agent({ keepAlive: true, keepAliveMsecs: 1000 });
  const agentFor = (u: URL): http.Agent => (u.protocol === 'https:' ? (opts.httpsAgent ?? ownHttps!) : (opts.httpAgent ?? ownHttp!));
  let skipStreamUntil = 0;

  /** One reply(): abort reasons, deadline/idle timers, delivered text. */
  function startTurn(o: BrainReplyOptions) {
    const ac = new AbortController();
    const started = performance.now();
    let why: Why | undefined;
    let cancelIdle: CancelTimer = () => {};
    const abort = (w: Why) => {
      if (why) return;
      why = w;
      ac.abort(new Error(`brain request aborted (${w})`));
    };
    const onCaller = () => abort('caller');
    o.signal?.addEventListener('abort', onCaller, { once: true });
    const cancelDeadline = timers.after(opts.timeoutMs, () => abort('deadline'));
    const turn = {
      signal: ac.signal,
      delivered: '',
      firstTokenMs: undefined as number | undefined,
      get aborted() {
        return why !== undefined;
      },
      armIdle() {
        cancelIdle();
        cancelIdle = timers.after(opts.pingMs, () => abort('idle'));
      },
      clearIdle() {
        cancelIdle();
      },
      deliver(text: string) {
        if (text === '') return;
        if (turn.firstTokenMs === undefined) turn.firstTokenMs = performance.now() - started;
        turn.delivered += text;
        try {
          o.onToken?.(text);
        } catch (err) {
          throw new BrainError('brain_failed', `onToken handler threw: ${(err as Error).message}`, { cause: err, partialText: turn.delivered });
        }
      },
      failure(err: unknown): BrainError {
        const partialText = turn.delivered;
        if (why === 'caller') return brainAborted(partialText, err);
        if (why === 'deadline') return new BrainError('brain_timeout', `brain ${host} did not answer within ${opts.timeoutMs} ms`, { retryable: true, partialText, cause: err });
        if (why === 'idle') {
          return new BrainError('brain_timeout', `brain stream ${host} silent for ${opts.pingMs} ms`, { retryable: true, partialText, cause: err, details: { reason: 'stream_idle' } });
        }
        if (err instanceof BrainError) return err;
        const detail = (err as NodeJS.ErrnoException)?.code ?? (err as Error)?.message ?? String(err);
        return new BrainError('brain_failed', `brain ${host} request failed: ${detail}`, { retryable: true, partialText, cause: err });
      },
      dispose() {
        cancelDeadline();
        cancelIdle();
        o.signal?.removeEventListener('abort', onCaller);
      },
    };
    return turn;
  }
  type Turn = ReturnType<typeof startTurn>;

  async function viaStream(body: string, turn: Turn): Promise<BrainResult | Fallback> {
    turn.armIdle();
    let res: http.IncomingMessage;
    try {
      res = await send(streamUrl, body, { accept: 'text/event-stream', 'cache-control': 'no-cache' }, turn.signal, agentFor(streamUrl));
    } catch (err) {
      if (turn.aborted) throw err;
      return new Fallback(`unreachable: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    turn.armIdle();
    const status = res.statusCode ?? 0;
    if ([404, 405, 406].includes(status) || status >= 500) {
      res.destroy();
      return new Fallback(`HTTP ${status}`, status < 500);
    }
    if (status < 200 || status >= 300) {
      const text = (await readBody(res, 4096).catch(() => Buffer.alloc(0))).toString('utf8', 0, 300);
      const retryable = status === 408 || status === 429;
      throw new BrainError('brain_failed', `brain stream ${host} answered HTTP ${status}`, { retryable, details: { status, body: text } });
    }
    if (contentType(res) !== 'text/event-stream') {
      res.destroy();
      return new Fallback(`answered ${contentType(res) || 'no content type'} instead of text/event-stream`, true);
    }
    return consume(res, turn);
  }

  function consume(res: http.IncomingMessage, turn: Turn): Promise<BrainResult | Fallback> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        turn.clearIdle();
        fn();
      };
      const fail = (err: unknown) => {
        settle(() => reject(err));
        res.destroy();
      };
      const result = (text: string, transfer?: BrainTransfer) => resultOf({ text, transfer }, 'stream', turn.firstTokenMs);
      const parser = new SseParser({
        onComment: () => turn.armIdle(),
        onEvent: (e) => {
          if (settled) return;
          turn.armIdle();
          const ev = decodeBrainEvent(e);
          if (ev.type === 'token') turn.deliver(ev.text);
          else if (ev.type === 'error') {
            fail(new BrainError('brain_failed', `brain stream error: ${ev.message.slice(0, 300)}`, { retryable: true, partialText: turn.delivered }));
          } else if (ev.type === 'done') {
            const text = ev.text ?? turn.delivered;
            // done.text extending the tokens (or a done-only stream): deliver the unspoken rest.
            if (text.startsWith(turn.delivered)) turn.deliver(text.slice(turn.delivered.length));
            settle(() => resolve(result(text, ev.transfer)));
            // The server should end the body now; don't let a lingering response hold the socket.
            if (!res.complete) timers.after(1000, () => res.destroy());
          }
        },
      });
      res.on('data', (chunk: Buffer) => {
        if (settled) return;
        try {
          parser.push(chunk);
        } catch (err) {
          fail(err instanceof BrainError ? err : new BrainError('brain_failed', `malformed brain stream: ${(err as Error).message}`, { partialText: turn.delivered, cause: err }));
        }
      });
      res.on('end', () => {
        if (settled) return;
        try {
          parser.end();
        } catch (err) {
          return fail(err);
        }
        if (settled) return;
        if (turn.delivered === '') return settle(() => resolve(new Fallback('stream ended without any token or done')));
        opts.logger?.warn({ host }, 'brain stream ended without a done event; using the tokens received');
        settle(() => resolve(result(turn.delivered)));
      });
      res.on('error', () => undefined);
      res.on('close', () => {
        if (!settled) settle(() => reject(turn.failure(new Error('brain stream closed before done'))));
      });
    });
  }

  async function viaReply(body: string, turn: Turn): Promise<BrainResult> {
    const res = await send(replyUrl, body, { accept: 'application/json' }, turn.signal, agentFor(replyUrl));
    const raw = (await readBody(res, maxBytes)).toString('utf8');
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      const retryable = status >= 500 || status === 408 || status === 429;
      throw new BrainError('brain_failed', `brain ${host} answered HTTP ${status}`, { retryable, details: { status, body: raw.slice(0, 300) } });
    }
    const { text, transfer } = parseReplyBody(raw, host);
    turn.deliver(text);
    return resultOf({ text, transfer }, 'reply', turn.firstTokenMs);
  }

  return {
    async reply(req: BrainRequest, o: BrainReplyOptions = {}): Promise<BrainResult> {
      if (o.signal?.aborted) throw brainAborted('', o.signal.reason);
      const turn = startTurn(o);
      const body = JSON.stringify(brainWireBody(req));
      try {
        if (opts.streamingEnabled && Date.now() >= skipStreamUntil) {
          const r = await viaStream(body, turn);
          if (!(r instanceof Fallback)) return r;
          if (r.unsupported && streamRetryMs > 0) skipStreamUntil = Date.now() + streamRetryMs;
          opts.logger?.warn({ host, path: opts.streamPath, reason: r.reason }, 'brain stream unavailable; falling back to /reply');
          turn.clearIdle();
        }
        return await viaReply(body, turn);
      } catch (err) {
        throw turn.failure(err);
      } finally {
        turn.dispose();
      }
    },
    close() {
      ownHttp?.destroy();
      ownHttps?.destroy();
    },
  };
}
