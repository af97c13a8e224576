/**
 * The Telnyx webhook route without Express: at thousands of webhooks a second per process the router,
 * body-parser and a pino-http child logger per request cost more than verifying and persisting the event.
 * It sits in front of the Express app on the same server and takes only the plain case — `POST` to
 * exactly one of WEBHOOK_PATHS, a Content-Length within the body limit, no Content-Encoding, no
 * Transfer-Encoding. Anything else (a chunked or compressed body, an oversized or missing length, a
 * query string, another spelling of the path) goes to the Express route, whose body-parser answers it
 * (413, 415, …) exactly as before.
 *
 * Same answers as the Express route (api/error-handler.ts maps the errors), same `x-request-id` header,
 * same metrics. The access log is aggregated: one summary line per interval with the counts by status
 * (2xx requests were debug-level lines before, so nothing is lost at info), and the first server error
 * of each interval logged in full.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../lib/logger';
import { realTimers, type Timers } from '../lib/timers';
import type { IngestOutcome } from '../jobs/events/event-ingest';
import { toHttpError } from './error-handler';
import { handleWebhook, WEBHOOK_BODY_LIMIT_BYTES, WEBHOOK_PATHS, type WebhookDeps } from './telnyx-webhook';

export interface WebhookFastPathOptions extends WebhookDeps {
  logger: Logger;
  /** Period of the access-log summary line. */
  summaryIntervalMs?: number;
  /** The summary's ticker. Default: real timers. */
  timers?: Timers;
}

export interface WebhookFastPath {
  /** Takes the request (true) or leaves it to the Express app (false, nothing read). */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  close(): void;
}

const PATHS = new Set(WEBHOOK_PATHS);
const CONTENT_LENGTH = /^\d{1,7}$/;
const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;
const EMPTY = Buffer.alloc(0);
export const SUMMARY_INTERVAL_MS = 10_000;
const JSON_TYPE = 'application/json; charset=utf-8';
/** The 200 bodies, built once: `{"received":true,"outcome":…}` as the Express route sends them. */
const OK_BODIES: Record<IngestOutcome, Buffer> = {
  accepted: Buffer.from(JSON.stringify({ received: true, outcome: 'accepted' })),
  duplicate: Buffer.from(JSON.stringify({ received: true, outcome: 'duplicate' })),
  ignored: Buffer.from(JSON.stringify({ received: true, outcome: 'ignored' })),
};

export function webhookFastPath(opts: WebhookFastPathOptions): WebhookFastPath {
  const { logger, metrics } = opts;
  const intervalMs = opts.summaryIntervalMs ?? SUMMARY_INTERVAL_MS;
  let byStatus = new Map<number, number>();
  let aborted = 0;
  let errorLogged = false;

  const summarize = () => {
    if (byStatus.size > 0 || aborted > 0) {
      const counts: Record<string, number> = {};
      let requests = 0;
      for (const [status, n] of byStatus) {
        counts[status] = n;
        requests += n;
      }
      logger.info({ route: 'telnyx-webhook', windowMs: intervalMs, requests, byStatus: counts, aborted }, 'webhook requests');
    }
    byStatus = new Map();
    aborted = 0;
    errorLogged = false;
  };
  const stopSummaries = (opts.timers ?? realTimers).every(intervalMs, summarize);

  const answer = (res: ServerResponse, path: string, requestId: string, endTimer: (labels: Record<string, string>) => void, status: number, body: object | Buffer) => {
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    endTimer({ method: 'POST', route: path, status: String(status) });
    if (res.headersSent || res.writableEnded) return;
    const payload = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
    // The raw header list form: no header-object walk or per-name validation for constant names.
    res.writeHead(status, ['content-type', JSON_TYPE, 'content-length', String(payload.length), 'x-request-id', requestId]);
    res.end(payload);
  };

  const run = (req: IncomingMessage, res: ServerResponse, body: Buffer, requestId: string, endTimer: (labels: Record<string, string>) => void) => {
    const path = req.url!;
    handleWebhook(opts, req.headers, body).then(
      (outcome) => answer(res, path, requestId, endTimer, 200, OK_BODIES[outcome]),
      (err: unknown) => {
        const { status, body: errBody } = toHttpError(err);
        if (status >= 500 && !errorLogged) {
          errorLogged = true;
          logger.error({ err, requestId, path }, 'webhook failed (further failures in this interval are counted in the summary)');
        }
        answer(res, path, requestId, endTimer, status, errBody);
      },
    );
  };

  return {
    handle(req, res) {
      if (req.method !== 'POST' || !PATHS.has(req.url ?? '')) return false;
      const h = req.headers;
      const cl = h['content-length'];
      if (h['transfer-encoding'] !== undefined || cl === undefined || !CONTENT_LENGTH.test(cl)) return false;
      const enc = h['content-encoding'];
      if (enc !== undefined && enc.toLowerCase() !== 'identity') return false;
      const length = Number(cl);
      if (length > WEBHOOK_BODY_LIMIT_BYTES) return false;

      const endTimer = metrics.httpRequestDuration.startTimer();
      const incomingId = h['x-request-id'];
      const requestId = typeof incomingId === 'string' && REQUEST_ID.test(incomingId) ? incomingId : randomUUID();
      // Memory follows the bytes that arrive, not the Content-Length the peer declared (a declared
      // 256 KB with nothing behind it costs nothing); the parser frames the body by Content-Length, and
      // the check below keeps the total bounded even so.
      const chunks: Buffer[] = [];
      let received = 0;
      req.on('data', (chunk: Buffer) => {
        if (received + chunk.length > length) {
          req.destroy();
          return;
        }
        chunks.push(chunk);
        received += chunk.length;
      });
      req.on('end', () => {
        if (received !== length) {
          answer(res, req.url!, requestId, endTimer, 400, { error: 'bad_request', message: 'request size did not match content length' });
          return;
        }
        run(req, res, chunks.length === 1 ? chunks[0]! : chunks.length === 0 ? EMPTY : Buffer.concat(chunks, received), requestId, endTimer);
      });
      // A client that goes away mid-body gets no answer (it cannot read one); counted, never thrown.
      req.on('error', () => undefined);
      req.on('close', () => {
        if (!req.complete) aborted += 1;
      });
      return true;
    },
    close() {
      stopSummaries();
      summarize();
    },
  };
}
