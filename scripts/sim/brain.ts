/**
 * A local HTTP brain (docs/design.md §Contracts, the brain) on 127.0.0.1 (the test fake and the demo's/load test's
 * scripted brain stand-in; tests/fakes/fake-brain.ts re-exports it):
 * - POST /reply → JSON `{text, transfer?}`;
 * - POST /reply/stream → SSE (`text/event-stream`): `event: token` `{"t"}` per token, optional
 *   `event: ping`, then `event: done` `{text?, transfer?}`.
 * Modes for the stream path: 'sse' (as above), 'json' (404, no stream endpoint),
 * 'sse_not_event_stream' (200 application/json), 'down' (socket destroyed on arrival).
 * Every request is recorded on arrival with its parsed body; `closed` resolves when its connection
 * closes (`closedEarly`: before the answer was complete — the client aborted).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { listen, closeServer } from './listen';

export type BrainServerMode = 'sse' | 'json' | 'sse_not_event_stream' | 'down';

export interface BrainScript {
  tokens?: string[];
  tokenDelayMs?: number;
  /** /reply text (default tokens joined); on the stream, sent as done.text when set. */
  text?: string;
  transfer?: unknown;
  pingEveryMs?: number;
  /** After this many tokens, send nothing more (pings stop too) and keep the socket open. */
  stallAfterTokens?: number;
  /** After this many tokens, send `event: error` and end. */
  errorAfterTokens?: number;
  /** After this many tokens, destroy the socket. */
  destroyAfterTokens?: number;
  /** End the stream after the tokens without a done event. */
  omitDone?: boolean;
  /** Answer the stream / reply path with this HTTP status instead. */
  streamStatus?: number;
  replyStatus?: number;
  /** CRLF line endings on the stream. */
  crlf?: boolean;
}

export interface BrainServerOptions {
  mode: BrainServerMode;
  script?: (body: Record<string, unknown>) => BrainScript;
  /** Delay before the response headers. */
  latencyMs?: number;
  streamPath?: string;
  /** Listen address (default 127.0.0.1) and port (default 0). */
  host?: string;
  port?: number;
  /** Keep at most this many recorded requests (oldest dropped first; default unbounded). */
  maxRecorded?: number;
}

export interface RecordedBrainRequest {
  path: string;
  body: Record<string, unknown>;
  headers: http.IncomingHttpHeaders;
  remotePort: number;
  /** Set when the connection closed before the answer was complete. */
  closedEarly?: boolean;
  closedAt?: number;
  closed: Promise<void>;
}

export interface BrainServer {
  url: string;
  requests: RecordedBrainRequest[];
  setMode(mode: BrainServerMode): void;
  close(): Promise<void>;
}

export const DEFAULT_TOKENS = ['Hello', ' there', '.', ' How can', ' I help?'];

export async function startBrainServer(opts: BrainServerOptions): Promise<BrainServer> {
  let mode = opts.mode;
  const streamPath = opts.streamPath ?? '/reply/stream';
  const requests: RecordedBrainRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
    return t;
  };

  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const stream = (res: http.ServerResponse, s: BrainScript) => {
    const tokens = s.tokens ?? DEFAULT_TOKENS;
    const nl = s.crlf ? '\r\n' : '\n';
    const send = (event: string, data: unknown) => {
      if (!res.destroyed) res.write(`event: ${event}${nl}data: ${JSON.stringify(data)}${nl}${nl}`);
    };
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    res.flushHeaders();
    let ping: NodeJS.Timeout | undefined;
    if (s.pingEveryMs) ping = setInterval(() => send('ping', {}), s.pingEveryMs);
    const stopPing = () => clearInterval(ping);
    res.on('close', stopPing);
    const step = (i: number) => {
      if (res.destroyed) return;
      if (i === s.stallAfterTokens) return stopPing();
      if (i === s.destroyAfterTokens) return res.socket?.destroy();
      if (i === s.errorAfterTokens) {
        send('error', { message: 'model crashed' });
        return res.end();
      }
      if (i < tokens.length) {
        send('token', { t: tokens[i] });
        return later(s.tokenDelayMs ?? 0, () => step(i + 1));
      }
      if (!s.omitDone) send('done', { ...(s.text !== undefined ? { text: s.text } : {}), ...(s.transfer ? { transfer: s.transfer } : {}) });
      stopPing();
      res.end();
    };
    step(0);
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://brain.local').pathname;
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        /* recorded as {} */
      }
      let closed!: () => void;
      const rec: RecordedBrainRequest = { path, body, headers: req.headers, remotePort: req.socket.remotePort ?? 0, closed: new Promise((r) => (closed = r)) };
      requests.push(rec);
      if (opts.maxRecorded !== undefined && requests.length > opts.maxRecorded) requests.splice(0, requests.length - opts.maxRecorded);
      res.on('close', () => {
        rec.closedEarly = !res.writableFinished;
        rec.closedAt = Date.now();
        closed();
      });
      const script = opts.script?.(body) ?? {};
      if (req.method !== 'POST') return json(res, 405, { error: 'method not allowed' });
      if (path === streamPath && mode === 'down') return req.socket.destroy();
      const answer = () => {
        if (res.destroyed) return;
        if (path === '/reply') {
          if (script.replyStatus) return json(res, script.replyStatus, { error: 'injected' });
          const text = script.text ?? (script.tokens ?? DEFAULT_TOKENS).join('');
          return json(res, 200, { text, ...(script.transfer ? { transfer: script.transfer } : {}) });
        }
        if (path !== streamPath) return json(res, 404, { error: 'not found' });
        if (script.streamStatus) return json(res, script.streamStatus, { error: 'injected' });
        if (mode === 'json') return json(res, 404, { error: 'no stream endpoint' });
        if (mode === 'sse_not_event_stream') return json(res, 200, { text: 'not a stream' });
        return stream(res, script);
      };
      if (opts.latencyMs) later(opts.latencyMs, answer);
      else answer();
    });
  });
  await listen(server, opts.host, opts.port);
  const url = `http://${opts.host ?? '127.0.0.1'}:${(server.address() as AddressInfo).port}`;

  return {
    url,
    requests,
    setMode(m) {
      mode = m;
    },
    close: () => closeServer(server, timers),
  };
}
