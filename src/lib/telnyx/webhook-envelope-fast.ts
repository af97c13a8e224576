/**
 * The Telnyx envelope check of `telnyxEnvelopeSchema` (webhook-event.ts) written out by hand for the
 * webhook route, which runs it thousands of times a second: same fields, same limits, same output (a
 * wrong optional field is dropped, unknown fields are not kept, a missing payload is `{}`), several
 * times cheaper than the zod parse. It only decides the accepted case: for input it refuses it
 * returns undefined and the caller runs the zod schema, whose issue is the error message (refusals are
 * rare, so they may be slow). tests/unit/webhook-envelope-fast.test.ts holds the two to the same output.
 */
import type { TelnyxEnvelope, TelnyxEvent } from './webhook-event';

type Json = Record<string, unknown>;

// The limits of webhook-event.ts (kept in step by the equivalence test).
const EVENT_TYPE_MAX = 128;
const ID_MAX = 500;
const ADDRESS_MAX = 256;
const CLIENT_STATE_MAX = 4096;
const SAMPLING_RATE_MAX = 192_000;
const ATTEMPT_MAX = 1_000_000;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A string of at most `max` UTF-16 units, else undefined (zod's `.max(n).optional().catch(undefined)`). */
const short = (v: unknown, max: number): string | undefined => (typeof v === 'string' && v.length <= max ? v : undefined);

/** An integer within [0, max], else undefined. */
const intIn = (v: unknown, max: number): number | undefined =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= max ? v : undefined;

/** Optional caught fields: zod keeps a key the input had (value undefined when it was wrong) and omits one it lacked. */
function put(out: Json, input: Json, key: string, value: unknown): void {
  if (value !== undefined || key in input) out[key] = value;
}

type Payload = TelnyxEvent['payload'];

const SHORT_PAYLOAD_FIELDS: readonly (readonly [keyof Payload & string, number])[] = [
  ['call_leg_id', ID_MAX],
  ['call_session_id', ID_MAX],
  ['connection_id', ID_MAX],
  ['direction', 32],
  ['from', ADDRESS_MAX],
  ['to', ADDRESS_MAX],
  ['state', 64],
];
const SHORT_PAYLOAD_FIELDS_2: readonly (readonly [keyof Payload & string, number])[] = [
  ['hangup_cause', 128],
  ['hangup_source', 64],
  ['digit', 8],
  ['failure_reason', 512],
  ['stream_id', ID_MAX],
  ['codec', 32],
];

function payloadOf(p: unknown): Payload | undefined {
  if (p === undefined) return {};
  if (!isObject(p)) return undefined;
  const out: Json = {};
  const cc = p.call_control_id;
  if (cc !== undefined) {
    if (typeof cc !== 'string' || cc.length < 1 || cc.length > ID_MAX) return undefined;
    out.call_control_id = cc;
  } else if ('call_control_id' in p) out.call_control_id = undefined;
  for (const [key, max] of SHORT_PAYLOAD_FIELDS) put(out, p, key, short(p[key], max));
  const cs = p.client_state;
  put(out, p, 'client_state', cs === null ? null : short(cs, CLIENT_STATE_MAX));
  for (const [key, max] of SHORT_PAYLOAD_FIELDS_2) put(out, p, key, short(p[key], max));
  put(out, p, 'sampling_rate', intIn(p.sampling_rate, SAMPLING_RATE_MAX));
  put(out, p, 'media_url', short(p.media_url, 2048));
  put(out, p, 'status', short(p.status, 64));
  return out as Payload;
}

/** The parsed envelope when `json` is an acceptable Telnyx envelope; undefined otherwise (ask the zod schema why). */
export function parseTelnyxEnvelopeFast(json: unknown): TelnyxEnvelope | undefined {
  if (!isObject(json)) return undefined;
  const d = json.data;
  if (!isObject(d)) return undefined;
  const eventType = d.event_type;
  const id = d.id;
  if (typeof eventType !== 'string' || eventType.length < 1 || eventType.length > EVENT_TYPE_MAX) return undefined;
  if (typeof id !== 'string' || id.length < 1 || id.length > ID_MAX) return undefined;
  const payload = payloadOf(d.payload);
  if (payload === undefined) return undefined;
  const data: Json = { event_type: eventType, id };
  put(data, d, 'occurred_at', short(d.occurred_at, 64));
  put(data, d, 'record_type', short(d.record_type, 64));
  data.payload = payload;
  const out: Json = { data };
  if ('meta' in json) {
    const m = json.meta;
    if (isObject(m)) {
      const meta: Json = {};
      put(meta, m, 'attempt', intIn(m.attempt, ATTEMPT_MAX));
      put(meta, m, 'delivered_to', short(m.delivered_to, 2048));
      out.meta = meta;
    } else out.meta = undefined;
  }
  return out as unknown as TelnyxEnvelope;
}
