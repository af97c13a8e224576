import express, { Router, type Request, type Response } from 'express';
import { AppError } from '../lib/errors';
import { jsonDepthExceeds } from '../lib/json-depth';
import type { Metrics } from '../lib/metrics';
import type { WebhookHeaders, WebhookVerifier } from '../lib/telnyx/webhook-verify';
import type { EventIngest, IngestOutcome } from '../jobs/events/event-ingest';
import { telnyxEnvelopeSchema } from '../lib/telnyx/webhook-event';
import { parseTelnyxEnvelopeFast } from '../lib/telnyx/webhook-envelope-fast';

export const WEBHOOK_PATHS = ['/v1/telnyx/webhook', '/webhooks/telnyx'];
/**
 * Telnyx call events are 1–3 KB; 256 KB bounds memory per request with a wide margin. A declared
 * Content-Length over it is refused (413) before a byte of the body is read; a chunked body is cut off
 * as soon as it passes the limit.
 */
export const WEBHOOK_BODY_LIMIT = '256kb';
export const WEBHOOK_BODY_LIMIT_BYTES = 256 * 1024;
/** Telnyx envelopes nest 3–4 levels (data.payload.…); anything deeper than this is not one. */
export const WEBHOOK_MAX_DEPTH = 32;

export interface WebhookDeps {
  verifier: WebhookVerifier;
  ingest: EventIngest;
  metrics: Metrics;
}

/**
 * Telnyx webhook ingress: verify the signature over the RAW body, validate the envelope, persist
 * the event, and only then acknowledge. Shared by the Express route below and the raw fast path
 * (api/webhook-fast-path.ts); failures are thrown as AppErrors (mapped by api/error-handler.ts).
 */
export async function handleWebhook(deps: WebhookDeps, headers: WebhookHeaders, body: Buffer): Promise<IngestOutcome> {
  const verdict = deps.verifier.verify(headers, body);
  if (!verdict.ok) {
    deps.metrics.webhooks.inc({ event_type: 'unknown', outcome: 'unauthorized' });
    throw new AppError('invalid_signature', `webhook signature rejected: ${verdict.reason}`, { status: 401 });
  }
  if (jsonDepthExceeds(body, WEBHOOK_MAX_DEPTH)) {
    deps.metrics.webhooks.inc({ event_type: 'unknown', outcome: 'invalid_json' });
    throw new AppError('invalid_json', `request body nests deeper than ${WEBHOOK_MAX_DEPTH} levels`, { status: 400 });
  }
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    deps.metrics.webhooks.inc({ event_type: 'unknown', outcome: 'invalid_json' });
    throw new AppError('invalid_json', 'request body is not valid JSON', { status: 400 });
  }
  // The hand-written check decides the accepted case; the zod schema (same output) explains a refusal.
  let envelope = parseTelnyxEnvelopeFast(json);
  if (envelope === undefined) {
    const parsed = telnyxEnvelopeSchema.safeParse(json);
    if (!parsed.success) {
      deps.metrics.webhooks.inc({ event_type: 'unknown', outcome: 'invalid_envelope' });
      const first = parsed.error.issues[0];
      throw new AppError('invalid_envelope', `not a Telnyx event envelope: ${first?.path.join('.')}: ${first?.message}`, { status: 400 });
    }
    envelope = parsed.data;
  }
  const event = envelope.data;
  const eventType = metricLabel(event.event_type);
  try {
    const outcome = await deps.ingest.accept(event);
    deps.metrics.webhooks.inc({ event_type: eventType, outcome });
    return outcome;
  } catch (err) {
    deps.metrics.webhooks.inc({ event_type: eventType, outcome: 'error' });
    throw err;
  }
}

/**
 * The Express route: requests the fast path hands over (chunked or compressed bodies, an oversized or
 * missing Content-Length, other spellings of the path) get body-parser's answers here.
 */
export function telnyxWebhookRouter(deps: WebhookDeps): Router {
  const router = Router();
  // inflate: false: Telnyx sends plain JSON; a compressed body (a 10 MB gzip bomb in 10 KB) is refused with 415.
  const raw = express.raw({ type: () => true, limit: WEBHOOK_BODY_LIMIT, inflate: false });
  const handle = async (req: Request, res: Response) => {
    const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const outcome = await handleWebhook(deps, req.headers, body);
    res.status(200).json({ received: true, outcome });
  };
  for (const path of WEBHOOK_PATHS) router.post(path, raw, handle);
  return router;
}

/** Bounded label cardinality: event types are dotted lowercase words; anything else is "other". */
function metricLabel(eventType: string): string {
  return /^[a-z_.]{1,64}$/.test(eventType) ? eventType : 'other';
}
