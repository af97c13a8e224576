/**
 * Telnyx Call Control REST client (docs/design.md §Telnyx): one POST per command, classified into
 * ok / call_ended / TelnyxCommandError. It never retries by itself: retries belong to the call-control
 * queue, which reuses the same `command_id` on every attempt (Telnyx ignores repeats) and uses
 * `retryable` / `retryAfterMs` / computeBackoffMs from here.
 */
import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosInstance } from 'axios';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import { parseRetryAfterMs } from './backoff';
import { TelnyxCommandError, codeForStatus, isRetryableStatus, parseTelnyxErrors } from './command-error';

export { computeBackoffMs, parseRetryAfterMs } from './backoff';
export { TelnyxCommandError, type TelnyxApiError, type TelnyxCommandErrorCode } from './command-error';

export const ACTIONS = [
  'answer',
  'hangup',
  'playback_start',
  'playback_stop',
  'speak',
  'streaming_start',
  'streaming_stop',
  'transfer',
  'send_dtmf',
  'gather',
  'record_start',
  'record_stop',
] as const;
export type Action = (typeof ACTIONS)[number];

const ACTION_SET: ReadonlySet<string> = new Set(ACTIONS);

/** True for the Call Control actions this runtime sends; job data (editable in the admin UI) is checked with it. */
export function isAction(action: unknown): action is Action {
  return typeof action === 'string' && ACTION_SET.has(action);
}

/** Telnyx error code for "call has already ended": the command has nothing left to do. */
export const CALL_ENDED_CODE = '90018';

export type CommandResult = { status: 'ok'; data: unknown } | { status: 'call_ended' };

export interface CallControlClientOptions {
  /** TELNYX_API_BASE_URL, e.g. https://api.telnyx.com/v2 (never hard-coded: §6). */
  baseUrl: string;
  apiKey: string;
  /** Per-request timeout (connect + response). */
  timeoutMs: number;
  logger?: Logger;
  /** Optional latency histogram (telnyx_command_duration_seconds). */
  metrics?: Pick<Metrics, 'callControlDuration'>;
  /** Agents to share; when absent the client owns keep-alive agents and `close()` destroys them. */
  httpAgent?: http.Agent;
  httpsAgent?: https.Agent;
  /** Bound on concurrent sockets to Telnyx per owned agent. */
  maxSockets?: number;
}

export interface SendOptions {
  /** Overrides the client timeout for this command. */
  timeoutMs?: number;
  /** Aborts the request (e.g. session teardown); surfaces as a non-retryable network error. */
  signal?: AbortSignal;
}

export interface CallControlClient {
  send(callControlId: string, action: Action, body?: Record<string, unknown>, opts?: SendOptions): Promise<CommandResult>;
  /** Destroys the keep-alive sockets this client owns. */
  close(): void;
}

const DEFAULT_MAX_SOCKETS = 64;

export function createCallControlClient(opts: CallControlClientOptions): CallControlClient {
  const baseUrl = opts.baseUrl.replace(/\/+$/, '');
  const maxSockets = opts.maxSockets ?? DEFAULT_MAX_SOCKETS;
  // Keep-alive saves a TCP+TLS handshake (tens of ms) on every command of the call-setup path.
  const agentOpts = { keepAlive: true, maxSockets, maxFreeSockets: Math.min(maxSockets, 16), scheduling: 'lifo' as const };
  const ownHttp = opts.httpAgent ? undefined : new http.Agent(agentOpts);
  const ownHttps = opts.httpsAgent ? undefined : new https.Agent(agentOpts);
  const ax: AxiosInstance = axios.create({
    timeout: opts.timeoutMs,
    httpAgent: opts.httpAgent ?? ownHttp,
    httpsAgent: opts.httpsAgent ?? ownHttps,
    // Telnyx never redirects commands; following one could hand the bearer token to another host.
    maxRedirects: 0,
    // Every status is classified below; axios must not throw on 4xx/5xx.
    validateStatus: () => true,
    transitional: { clarifyTimeoutError: true },
    headers: {
      Authorization: `Bearer ${opts.apiKey}`,
      'Content-Type': 'application/json',
      Accept: 'application/json',
    },
  });
  const log = opts.logger;

  const observe = (action: Action, outcome: string, t0: number) =>
    opts.metrics?.callControlDuration.observe({ action, outcome }, (performance.now() - t0) / 1000);

  return {
    async send(callControlId, action, body = {}, sendOpts = {}) {
      // The action is a path segment of an authenticated request: only the known names, never a path a job
      // (stored in Redis, editable in the admin UI) could smuggle in.
      if (!isAction(action) || typeof callControlId !== 'string' || callControlId.length === 0) {
        throw new TelnyxCommandError({
          code: 'telnyx_bad_command',
          message: `refused to send Call Control action ${JSON.stringify(String(action)).slice(0, 80)}: not a known action`,
          action: String(action),
          callControlId: String(callControlId),
          retryable: false,
        });
      }
      const url = `${baseUrl}/calls/${encodeURIComponent(callControlId)}/actions/${encodeURIComponent(action)}`;
      const t0 = performance.now();
      let res;
      try {
        res = await ax.post(url, body, { timeout: sendOpts.timeoutMs ?? opts.timeoutMs, signal: sendOpts.signal });
      } catch (err) {
        // Only the code and message are kept: an axios error carries the request config, Authorization included.
        const e = err as { code?: string; message?: string };
        const aborted = e.code === 'ERR_CANCELED';
        const timedOut = e.code === 'ETIMEDOUT' || e.code === 'ECONNABORTED';
        observe(action, timedOut ? 'timeout' : 'network_error', t0);
        const error = new TelnyxCommandError({
          code: timedOut ? 'telnyx_timeout' : 'telnyx_network_error',
          message: `Telnyx ${action} ${timedOut ? 'timed out' : aborted ? 'aborted' : 'failed'}: ${e.code ?? ''} ${e.message ?? ''}`.trim(),
          action,
          callControlId,
          // A request we aborted ourselves must not come back as a retry.
          retryable: !aborted,
        });
        log?.warn({ action, callControlId, code: error.code, netCode: e.code, latencyMs: Math.round(performance.now() - t0) }, 'telnyx command failed');
        throw error;
      }

      const latencyMs = Math.round(performance.now() - t0);
      if (res.status >= 200 && res.status < 300) {
        observe(action, 'ok', t0);
        log?.debug({ action, callControlId, status: res.status, latencyMs }, 'telnyx command ok');
        const payload = res.data as { data?: unknown } | undefined;
        return { status: 'ok', data: payload && typeof payload === 'object' && 'data' in payload ? payload.data : payload };
      }

      const telnyxErrors = parseTelnyxErrors(res.data);
      if (res.status >= 400 && res.status < 500 && telnyxErrors.some((e) => e.code === CALL_ENDED_CODE)) {
        observe(action, 'call_ended', t0);
        log?.debug({ action, callControlId, status: res.status, latencyMs }, 'telnyx command: call already ended');
        return { status: 'call_ended' };
      }

      const retryAfterMs =
        res.status === 429 || res.status === 503 ? parseRetryAfterMs(res.headers['retry-after'] as string | undefined) : undefined;
      const first = telnyxErrors[0];
      const error = new TelnyxCommandError({
        code: codeForStatus(res.status),
        message: `Telnyx ${action} failed: HTTP ${res.status}${first ? ` ${first.code ?? ''} ${first.title ?? ''}`.trimEnd() : ''}`,
        action,
        callControlId,
        httpStatus: res.status,
        retryable: isRetryableStatus(res.status),
        telnyxErrors,
        retryAfterMs,
      });
      observe(action, `http_${res.status}`, t0);
      log?.warn(
        { action, callControlId, status: res.status, telnyxCodes: error.telnyxCodes, retryable: error.retryable, retryAfterMs, latencyMs },
        'telnyx command failed',
      );
      throw error;
    },
    close() {
      ownHttp?.destroy();
      ownHttps?.destroy();
    },
  };
}
