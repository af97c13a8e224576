/**
 * A local Telnyx Call Control REST API on a real socket (127.0.0.1, port 0 unless told), speaking
 * the real wire format (docs/design.md §Telnyx): `POST /v2/calls/{call_control_id}/actions/{action}` with a
 * Bearer key, `{"data":{"result":"ok"}}` on success, `{"errors":[{code,title,detail}]}` on failure.
 * Records every command; callers plan failures and latency and may hook `onAction` (the simulator
 * posts the follow-up webhooks Telnyx would send from there). tests/fakes/fake-telnyx-api.ts
 * re-exports it under its test names.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { closeServer, listen } from './listen';

export interface RecordedCommand {
  callControlId: string;
  action: string;
  body: Record<string, unknown>;
  headers: http.IncomingHttpHeaders;
  /** performance.now() when the request was fully received. */
  at: number;
  /** HTTP status answered. */
  status: number;
}

export interface PlannedFailure {
  status: number;
  /** How many consecutive matching commands fail (default 1). */
  times?: number;
  retryAfterSec?: number | string;
  /** Response body; defaults to a realistic Telnyx error body for the status. */
  body?: unknown;
}

export type CommandListener = (cmd: RecordedCommand) => void;
/** Runs after a successful response was sent; errors are swallowed (logged) so tests see them in output. */
export type ActionHook = (cmd: RecordedCommand, api: CallControlApi) => void | Promise<void>;

export interface CallControlApi {
  /** e.g. http://127.0.0.1:PORT/v2 — pass as TELNYX_API_BASE_URL. */
  baseUrl: string;
  apiKey: string;
  requests: RecordedCommand[];
  /** Plans failures for an action ('*' = any action); plans queue in order. */
  failNext(action: string, failure: PlannedFailure): void;
  /** Delay before every response (and optionally per action). */
  setLatency(ms: number, action?: string): void;
  /** Marks a call as ended: later commands for it get 422 / 90018, as Telnyx does (a successful hangup does this too). */
  endCall(callControlId: string): void;
  setOnAction(hook: ActionHook | undefined): void;
  /**
   * An outage until `up()`: 'refused' stops listening and drops open connections (connection
   * refused, as when Telnyx's edge is unreachable); 503 answers every command with 503 (recorded).
   */
  down(mode: 'refused' | 503): Promise<void>;
  /** Ends the outage: listens again on the same port, commands succeed again. */
  up(): Promise<void>;
  /** 'up', 'refused' or 503. */
  readonly state: 'up' | 'refused' | 503;
  onCommand(listener: CommandListener): () => void;
  waitFor(predicate: (cmd: RecordedCommand) => boolean, timeoutMs?: number): Promise<RecordedCommand>;
  commands(action?: string, callControlId?: string): RecordedCommand[];
  reset(): void;
  close(): Promise<void>;
}

export const CALL_ENDED_BODY = {
  errors: [{ code: '90018', title: 'Call has already ended', detail: 'This call is no longer active and can\'t receive commands.' }],
};

function defaultErrorBody(status: number): unknown {
  switch (status) {
    case 422:
      return CALL_ENDED_BODY;
    case 401:
      return { errors: [{ code: '10009', title: 'Authentication failed', detail: 'The API key is invalid.' }] };
    case 429:
      return { errors: [{ code: '10011', title: 'Too many requests', detail: 'Rate limit exceeded.' }] };
    case 404:
      return { errors: [{ code: '10005', title: 'Resource not found', detail: 'The requested resource was not found.' }] };
    default:
      return status >= 500
        ? { errors: [{ code: '10007', title: 'Unexpected error', detail: 'An unexpected error occurred.' }] }
        : { errors: [{ code: '10015', title: 'Bad Request', detail: 'The request failed validation.' }] };
  }
}

const ROUTE = /^\/v2\/calls\/([^/]+)\/actions\/([a-z_]+)$/;

export interface CallControlApiOptions {
  apiKey?: string;
  onAction?: ActionHook;
  /** Listen address (default 127.0.0.1) and port (default 0 = any free port). */
  host?: string;
  port?: number;
  /** Keep at most this many recorded commands (oldest dropped; default unbounded). */
  maxRecorded?: number;
}

export async function startCallControlApi(opts: CallControlApiOptions = {}): Promise<CallControlApi> {
  const apiKey = opts.apiKey ?? 'KEY_test';
  const requests: RecordedCommand[] = [];
  const planQueue: { action: string; failure: PlannedFailure & { times: number } }[] = [];
  const latency = new Map<string, number>();
  const ended = new Set<string>();
  const listeners = new Set<CommandListener>();
  const timers = new Set<NodeJS.Timeout>();
  let onAction = opts.onAction;
  let outage: 'up' | 'refused' | 503 = 'up';

  const takeFailure = (action: string): PlannedFailure | undefined => {
    const i = planQueue.findIndex((p) => p.action === action || p.action === '*');
    if (i < 0) return undefined;
    const p = planQueue[i]!;
    if (--p.failure.times <= 0) planQueue.splice(i, 1);
    return p.failure;
  };

  const delay = (ms: number) =>
    ms <= 0
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            timers.delete(t);
            resolve();
          }, ms);
          timers.add(t);
        });

  const send = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    if (res.destroyed) return;
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer) => {
    const m = req.method === 'POST' ? ROUTE.exec((req.url ?? '').split('?')[0]!) : null;
    if (!m) return send(res, 404, defaultErrorBody(404));
    if (req.headers.authorization !== `Bearer ${apiKey}`) return send(res, 401, defaultErrorBody(401));
    let body: Record<string, unknown>;
    try {
      body = raw.length ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {};
    } catch {
      return send(res, 400, { errors: [{ code: '10015', title: 'Bad Request', detail: 'Invalid JSON body.' }] });
    }
    const cmd: RecordedCommand = {
      callControlId: decodeURIComponent(m[1]!),
      action: m[2]!,
      body,
      headers: req.headers,
      at: performance.now(),
      status: 200,
    };
    const failure = outage === 503 ? { status: 503 } : takeFailure(cmd.action);
    if (failure) cmd.status = failure.status;
    else if (ended.has(cmd.callControlId)) cmd.status = 422;
    requests.push(cmd);
    if (opts.maxRecorded !== undefined && requests.length > opts.maxRecorded) requests.splice(0, requests.length - opts.maxRecorded);
    for (const l of [...listeners]) l(cmd);

    await delay(latency.get(cmd.action) ?? latency.get('*') ?? 0);
    if (failure) {
      const headers: Record<string, string> = failure.retryAfterSec === undefined ? {} : { 'retry-after': String(failure.retryAfterSec) };
      return send(res, failure.status, failure.body ?? defaultErrorBody(failure.status), headers);
    }
    if (cmd.status === 422) return send(res, 422, CALL_ENDED_BODY);
    if (cmd.action === 'hangup') ended.add(cmd.callControlId);
    send(res, 200, { data: { result: 'ok' } });
    if (onAction) {
      Promise.resolve()
        .then(() => onAction?.(cmd, api))
        .catch((err: unknown) => console.error('telnyx simulator: onAction hook failed', err));
    }
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks)).catch((err: unknown) => send(res, 500, { errors: [{ code: '10007', title: String(err) }] }));
    });
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const sockets = new Set<Socket>();
  server.on('connection', (sock) => {
    sockets.add(sock);
    sock.once('close', () => sockets.delete(sock));
  });

  const api: CallControlApi = {
    baseUrl: `http://${host.includes(':') ? `[${host}]` : host}:${port}/v2`,
    apiKey,
    requests,
    failNext(action, failure) {
      planQueue.push({ action, failure: { ...failure, times: failure.times ?? 1 } });
    },
    setLatency(ms, action = '*') {
      latency.set(action, ms);
    },
    endCall(callControlId) {
      ended.add(callControlId);
    },
    setOnAction(hook) {
      onAction = hook;
    },
    get state() {
      return outage;
    },
    async down(mode) {
      if (outage === 'refused') await api.up();
      outage = mode;
      if (mode !== 'refused') return;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive sockets would carry requests past a closed listener: cut them too.
      for (const sock of sockets) sock.destroy();
      await closed;
    },
    async up() {
      const was = outage;
      outage = 'up';
      if (was === 'refused') await listen(server, host, port);
    },
    onCommand(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    waitFor(predicate, timeoutMs = 5000) {
      const seen = requests.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          off();
          reject(new Error(`telnyx simulator: no matching command within ${timeoutMs} ms (got ${requests.map((r) => r.action).join(', ') || 'none'})`));
        }, timeoutMs);
        const off = api.onCommand((cmd) => {
          if (!predicate(cmd)) return;
          clearTimeout(timer);
          off();
          resolve(cmd);
        });
      });
    },
    commands(action, callControlId) {
      return requests.filter((r) => (action === undefined || r.action === action) && (callControlId === undefined || r.callControlId === callControlId));
    },
    reset() {
      requests.length = 0;
      planQueue.length = 0;
      latency.clear();
      ended.clear();
    },
    async close() {
      listeners.clear();
      if (outage === 'refused') {
        // Not listening any more (and its connections were cut): only reply timers are left.
        for (const t of timers) clearTimeout(t);
        timers.clear();
        return;
      }
      await closeServer(server, timers);
    },
  };
  return api;
}
