/**
 * Signs webhooks exactly as Telnyx does (Ed25519 over `${timestamp}|${rawBody}`) and as the local
 * HMAC scheme does, and builds realistic event envelopes (docs/design.md §Telnyx). Used by the Telnyx
 * simulator, tests and scripts (tests/support/telnyx-signing.ts re-exports it).
 */
import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, randomUUID, sign, type KeyObject } from 'node:crypto';

export interface TestKeyPair {
  /** Base64 of the RAW 32-byte public key: the TELNYX_PUBLIC_KEY format. */
  publicKeyB64: string;
  privateKey: KeyObject;
}

export type SignatureHeaders = Record<string, string>;

/** DER prefix of an Ed25519 PKCS#8 private key; the 32-byte seed follows it. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

const nowSec = () => Math.floor(Date.now() / 1000);
const toBuffer = (b: string | Buffer) => (typeof b === 'string' ? Buffer.from(b, 'utf8') : b);

function rawPublicKeyB64(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  return Buffer.from(jwk.x!, 'base64url').toString('base64');
}

/** A fresh key pair; pass a 32-byte hex seed for a deterministic one (handy in scripts). */
export function generateTestKeyPair(seedHex?: string): TestKeyPair {
  if (seedHex !== undefined) {
    const seed = Buffer.from(seedHex, 'hex');
    if (seed.length !== 32) throw new Error('seed must be 32 bytes of hex');
    const privateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
    return { publicKeyB64: rawPublicKeyB64(createPublicKey(privateKey)), privateKey };
  }
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { publicKeyB64: rawPublicKeyB64(publicKey), privateKey };
}

export function signEd25519(rawBody: string | Buffer, privateKey: KeyObject, timestampSec: number = nowSec()): SignatureHeaders {
  const ts = String(timestampSec);
  const signature = sign(null, Buffer.concat([Buffer.from(`${ts}|`), toBuffer(rawBody)]), privateKey);
  return { 'telnyx-signature-ed25519': signature.toString('base64'), 'telnyx-timestamp': ts };
}

export function signHmac(rawBody: string | Buffer, secret: string, timestampSec: number = nowSec()): SignatureHeaders {
  const ts = String(timestampSec);
  const signature = createHmac('sha256', secret).update(`${ts}.`).update(toBuffer(rawBody)).digest('base64');
  return { 'telnyx-signature': signature, 'telnyx-timestamp': ts };
}

export interface TelnyxEventPayload {
  call_control_id: string;
  call_leg_id: string;
  call_session_id: string;
  connection_id: string;
  direction: 'incoming' | 'outgoing';
  from: string;
  to: string;
  state: string;
  client_state?: string;
  [key: string]: unknown;
}

export interface TelnyxEvent {
  data: { event_type: string; id: string; occurred_at: string; payload: TelnyxEventPayload; record_type: 'event' };
  meta: { attempt: number; delivered_to: string };
}

export interface MakeEventOptions {
  id?: string;
  occurredAt?: Date | string;
  attempt?: number;
  deliveredTo?: string;
}

/** A call_control_id in Telnyx's shape ("v3:" + url-safe base64). */
export function newCallControlId(): string {
  return `v3:${randomBytes(30).toString('base64url')}`;
}

/** Plausible state per event type, so handlers that look at `state` see what Telnyx sends. */
function defaultState(eventType: string): string {
  if (eventType === 'call.initiated') return 'parked';
  if (eventType === 'call.hangup') return 'hangup';
  return 'answered';
}

/**
 * A realistic envelope. `payload` fields override the defaults (pass the same call_control_id to
 * build several events of one call); client_state is present only when given.
 */
export function makeEvent(eventType: string, payload: Partial<TelnyxEventPayload> = {}, opts: MakeEventOptions = {}): TelnyxEvent {
  const occurredAt = opts.occurredAt ?? new Date();
  return {
    data: {
      event_type: eventType,
      id: opts.id ?? randomUUID(),
      occurred_at: typeof occurredAt === 'string' ? occurredAt : occurredAt.toISOString(),
      payload: {
        call_control_id: newCallControlId(),
        call_leg_id: randomUUID(),
        call_session_id: randomUUID(),
        connection_id: '1494404757140276705',
        direction: 'incoming',
        from: '+15550001111',
        to: '+15551234567',
        state: defaultState(eventType),
        ...payload,
      },
      record_type: 'event',
    },
    meta: { attempt: opts.attempt ?? 1, delivered_to: opts.deliveredTo ?? 'http://127.0.0.1:3000/v1/telnyx/webhook' },
  };
}

/** Serializes an event once and signs those exact bytes; send `rawBody` as-is with `headers`. */
export function signedWebhook(
  event: unknown,
  signer: { privateKey: KeyObject } | { hmacSecret: string },
  timestampSec?: number,
): { rawBody: Buffer; headers: SignatureHeaders } {
  const rawBody = Buffer.from(JSON.stringify(event));
  const sig = 'privateKey' in signer ? signEd25519(rawBody, signer.privateKey, timestampSec) : signHmac(rawBody, signer.hmacSecret, timestampSec);
  return { rawBody, headers: { 'content-type': 'application/json', ...sig } };
}
