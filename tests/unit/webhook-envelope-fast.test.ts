import { isDeepStrictEqual } from 'node:util';
import { parseTelnyxEnvelopeFast } from '../../src/lib/telnyx/webhook-envelope-fast';
import { telnyxEnvelopeSchema } from '../../src/lib/telnyx/webhook-event';
import { rng } from '../support/audio-signals';
import { makeEvent } from '../support/telnyx-signing';


const LENGTHS = [0, 1, 7, 8, 9, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257, 499, 500, 501, 511, 512, 513, 2047, 2048, 2049, 4095, 4096, 4097];
const NUMBERS = [0, -0, 1, -1, 1.5, 8000, 16000, 192_000, 192_001, 1_000_000, 1_000_001, 2 ** 53, 1e300, -1e-9];

/** A value of any JSON type, biased to the edges of the schema's limits. */
function anyValue(r: () => number, depth = 0): unknown {
  const k = Math.floor(r() * 9);
  switch (k) {
    case 0:
      return undefined; // the key is absent (dropped by the JSON round trip)
    case 1:
      return null;
    case 2:
      return r() < 0.5;
    case 3:
      return NUMBERS[Math.floor(r() * NUMBERS.length)];
    case 4:
    case 5:
      return 'é'.repeat(LENGTHS[Math.floor(r() * LENGTHS.length)]!);
    case 6:
      return depth < 2 ? [anyValue(r, depth + 1)] : [];
    case 7:
      return depth < 2 ? { x: anyValue(r, depth + 1), call_control_id: anyValue(r, depth + 1) } : {};
    default:
      return 'v3:abc';
  }
}

const PAYLOAD_KEYS = [
  'call_control_id', 'call_leg_id', 'call_session_id', 'connection_id', 'direction', 'from', 'to', 'state', 'client_state',
  'hangup_cause', 'hangup_source', 'digit', 'failure_reason', 'stream_id', 'codec', 'sampling_rate', 'media_url', 'status', 'extra',
];

/** A JSON envelope: mostly realistic, each field replaced by an arbitrary value now and then. */
function envelope(r: () => number): unknown {
  const base = makeEvent('call.initiated', { client_state: 'aGk=', sampling_rate: 8000, media_url: 'https://x/a.wav' }, { deliveredTo: 'http://x' }) as unknown as {
    data: Record<string, unknown> & { payload: Record<string, unknown> };
    meta: Record<string, unknown>;
  };
  const mutate = (o: Record<string, unknown>, keys: string[], p: number) => {
    for (const key of keys) if (r() < p) o[key] = anyValue(r);
  };
  mutate(base.data.payload, PAYLOAD_KEYS, 0.15);
  mutate(base.data, ['event_type', 'id', 'occurred_at', 'record_type', 'payload', 'other'], 0.08);
  mutate(base.meta, ['attempt', 'delivered_to', 'other'], 0.2);
  const top = base as unknown as Record<string, unknown>;
  mutate(top, ['data', 'meta', 'other'], 0.04);
  if (r() < 0.02) return anyValue(r);
  return JSON.parse(JSON.stringify(top)) as unknown;
}

describe('parseTelnyxEnvelopeFast', () => {
  it('gives exactly what the zod schema gives for 20,000 envelopes around every limit, and refuses what it refuses', () => {
    const r = rng(17);
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < 20_000; i += 1) {
      const json = envelope(r);
      const z = telnyxEnvelopeSchema.safeParse(json);
      const fast = parseTelnyxEnvelopeFast(json);
      if (z.success) {
        accepted += 1;
        if (!isDeepStrictEqual(fast, z.data)) throw new Error(`case ${i}: ${JSON.stringify(json)}\nzod  ${JSON.stringify(z.data)}\nfast ${JSON.stringify(fast)}`);
      } else {
        refused += 1;
        if (fast !== undefined) throw new Error(`case ${i}: zod refused (${z.error.issues[0]?.message}) but the fast check accepted ${JSON.stringify(json)}`);
      }
    }
    // Both sides of the boundary were exercised.
    expect(accepted).toBeGreaterThan(5_000);
    expect(refused).toBeGreaterThan(1_000);
  });

  it('keeps a key the input had with a wrong value as undefined, and leaves absent keys absent, like zod', () => {
    const json = { data: { event_type: 'call.hangup', id: 'e1', payload: { from: 5, call_control_id: 'v3:x' } }, meta: 7 };
    const fast = parseTelnyxEnvelopeFast(json)!;
    expect(Object.keys(fast.data.payload)).toEqual(['call_control_id', 'from']);
    expect(fast.data.payload.from).toBeUndefined();
    expect('meta' in fast).toBe(true);
    expect(fast).toStrictEqual(telnyxEnvelopeSchema.parse(json));
  });

  it('refuses a call_control_id that is not a non-empty string (the runtime relies on it)', () => {
    for (const cc of [null, 5, '', 'x'.repeat(501), ['v3:x']]) {
      expect(parseTelnyxEnvelopeFast({ data: { event_type: 'call.hangup', id: 'e1', payload: { call_control_id: cc } } })).toBeUndefined();
    }
  });
});
