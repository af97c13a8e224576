import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { CallRecord, CallStore } from '../lib/calls/call-store';
import { errorMessage } from '../lib/errors';
import type { Logger } from '../lib/logger';
import type { Metrics } from '../lib/metrics';
import { verifyMediaToken } from '../lib/telnyx/media-token';
import { MEDIA_PATH } from '../lib/telnyx/media-route';
import type { TenantConfig } from '../lib/tenants/tenant-config';
import { realTimers, type Timers } from '../lib/timers';
import type { LiveCalls, StreamHandle } from '../media/live-calls';
import type { MediaSocket } from '../media/session/media-session';

/** Inbound Telnyx frames are ~300 B (20 ms of PCMU as base64 JSON); 64 KB bounds a hostile peer. */
export const MEDIA_MAX_PAYLOAD = 64 * 1024;
/** Ping every 15 s; a peer that missed a whole interval is gone (half-open TCP). */
const KEEPALIVE_MS = 15_000;
/** Frames that arrive while the call lookup runs are held, up to ~1 s of audio. */
const PENDING_LIMIT = 50;

export interface MediaServerDeps {
  mediaStreamToken: string;
  calls: Pick<CallStore, 'get'>;
  liveCalls: Pick<LiveCalls, 'attach'>;
  /** Before a stream is attached: route the call's webhooks here, look up its tenant. */
  prepareCall(call: CallRecord): Promise<TenantConfig | undefined>;
  /**
   * False while this instance hands its calls to others (draining): a new stream is refused with 503
   * so it lands on another instance (the load balancer may not have seen /health/ready turn 503 yet).
   */
  acceptsStreams?(): boolean;
  metrics: Metrics;
  logger: Logger;
  /** The keepalive ping round. Default: real timers. */
  timers?: Timers;
}

/** Longest request target we look at; a stream URL with its token is ~200 characters. */
const MAX_TARGET_LENGTH = 2048;

/**
 * The origin-form request target (`/path?query`) as a URL, or undefined when it is not one: absolute or
 * authority forms (`http://[`, `//[`), over-long targets, or anything WHATWG URL cannot parse.
 */
export function parseTarget(raw: string | undefined): URL | undefined {
  if (!raw || raw.length > MAX_TARGET_LENGTH || raw[0] !== '/' || raw.startsWith('//')) return undefined;
  try {
    return new URL(raw, 'http://localhost');
  } catch {
    return undefined;
  }
}

function refuse(socket: Duplex, status: number, error: string, message: string): void {
  const body = JSON.stringify({ error, message });
  const reason = status === 401 ? 'Unauthorized' : status === 404 ? 'Not Found' : 'Bad Request';
  if (socket.destroyed) return;
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * Telnyx media WebSockets on the HTTP server's port: `/v1/telnyx/media/{callControlId}`.
 * Authenticated on upgrade by the call's own token (from our stream_url's `token`, or the
 * `x-telnyx-streaming-auth-token` header; never the shared MEDIA_STREAM_TOKEN itself) with a real
 * HTTP 401 on failure; an unknown or ended call is closed with 1008.
 */
export function attachMediaServer(server: http.Server, deps: MediaServerDeps): { close(): void } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MEDIA_MAX_PAYLOAD, perMessageDeflate: false });
  const alive = new WeakMap<WebSocket, boolean>();

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    // The request target is the peer's text: nothing in it may throw out of this listener (an uncaught
    // throw here exits the process and drops every live call).
    try {
      onUpgrade(req, socket, head);
    } catch (err) {
      deps.metrics.mediaConnections.inc({ outcome: 'bad_request' });
      deps.logger.warn({ remote: req.socket.remoteAddress, err: errorMessage(err) }, 'media upgrade refused: malformed request');
      refuse(socket, 400, 'bad_request', 'malformed upgrade request');
    }
  });

  function onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const target = parseTarget(req.url);
    if (!target) {
      deps.metrics.mediaConnections.inc({ outcome: 'bad_request' });
      deps.logger.warn({ remote: req.socket.remoteAddress }, 'media upgrade refused: malformed request target');
      return refuse(socket, 400, 'bad_request', 'malformed request target');
    }
    const m = MEDIA_PATH.exec(target.pathname);
    if (!m) {
      deps.metrics.mediaConnections.inc({ outcome: 'bad_path' });
      return refuse(socket, 404, 'not_found', 'no WebSocket endpoint at this path');
    }
    let callId: string;
    try {
      callId = decodeURIComponent(m[1]!);
    } catch {
      deps.metrics.mediaConnections.inc({ outcome: 'bad_request' });
      return refuse(socket, 400, 'bad_request', 'malformed call id');
    }
    const header = req.headers['x-telnyx-streaming-auth-token'];
    const token = target.searchParams.get('token') ?? (Array.isArray(header) ? header[0] : header);
    if (!verifyMediaToken(deps.mediaStreamToken, callId, token ?? undefined)) {
      deps.metrics.mediaConnections.inc({ outcome: 'unauthorized' });
      deps.logger.warn({ callControlId: callId.slice(0, 128), remote: req.socket.remoteAddress }, 'media stream refused: bad token');
      return refuse(socket, 401, 'unauthorized', 'missing or invalid media stream token');
    }
    if (deps.acceptsStreams && !deps.acceptsStreams()) {
      deps.metrics.mediaConnections.inc({ outcome: 'draining' });
      return refuse(socket, 503, 'draining', 'this instance is shutting down; connect again');
    }
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, callId));
  }

  function onConnection(ws: WebSocket, callId: string): void {
    alive.set(ws, true);
    ws.on('pong', () => alive.set(ws, true));
    ws.on('error', (err) => deps.logger.debug({ callControlId: callId, err: err.message }, 'media socket error'));
    const pending: Buffer[] = [];
    let stream: StreamHandle | undefined;
    let closed = false;
    const onMessage = (data: RawData, isBinary: boolean) => {
      if (isBinary) {
        deps.metrics.mediaFrames.inc({ outcome: 'invalid' });
        return;
      }
      // ws hands a text message over as one Buffer (binaryType 'nodebuffer'); its bytes are parsed
      // as they are — a compact media frame never becomes a string (media-frame-bytes.ts).
      const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data.toString(), 'utf8');
      if (!stream) {
        if (pending.length < PENDING_LIMIT) pending.push(Buffer.from(bytes)); // a copy: a view would keep the socket's whole read chunk
        return;
      }
      try {
        // The stream's transport (src/media/session/stream-transport.ts): a mark's first hop; the
        // transport hands it to the playout's onMark (the second).
        stream.receive(bytes);
      } catch (err) {
        // A frame the session could not handle is dropped; the call and the process go on.
        deps.metrics.mediaFrames.inc({ outcome: 'invalid' });
        deps.logger.warn({ callControlId: callId, err: errorMessage(err) }, 'media frame dropped: handler failed');
      }
    };
    ws.on('message', onMessage);
    ws.on('close', () => {
      closed = true;
      stream?.socketClosed();
    });
    const start = async () => {
      const call = await deps.calls.get(callId);
      if (closed) return;
      if (!call || call.phase === 'ended') {
        deps.metrics.mediaConnections.inc({ outcome: 'unknown_call' });
        ws.close(1008, call ? 'call has ended' : 'unknown call');
        return;
      }
      const socket: MediaSocket = {
        send: (t) => {
          if (ws.readyState === ws.OPEN) ws.send(t);
        },
        close: (code, reason) => ws.close(code, reason),
      };
      const tenant = await deps.prepareCall(call);
      if (closed) return;
      stream = deps.liveCalls.attach(call, tenant, socket);
      deps.metrics.mediaConnections.inc({ outcome: 'accepted' });
      for (const t of pending.splice(0)) onMessage(t, false);
    };
    start().catch((err: unknown) => {
      deps.logger.error({ callControlId: callId, err: errorMessage(err) }, 'media session setup failed');
      ws.close(1011, 'session setup failed');
    });
  }

  const stopKeepalive = (deps.timers ?? realTimers).every(KEEPALIVE_MS, () => {
    for (const ws of wss.clients) {
      if (alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  });

  return {
    close() {
      stopKeepalive();
      for (const ws of wss.clients) ws.close(1001, 'server shutting down');
      wss.close();
    },
  };
}
