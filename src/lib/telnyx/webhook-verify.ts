/**
 * Telnyx webhook signature verification (docs/design.md §Telnyx). Pure: no I/O, no logging, time injected.
 *
 * - Ed25519 (real Telnyx): `telnyx-signature-ed25519` = base64 of a 64-byte signature over the bytes of
 *   `${telnyx-timestamp}|${rawBody}`. A PIPE, and the raw body bytes exactly as received: the original
 *   product used a dot and rejected every real webhook (§6).
 * - HMAC (local signing for tests and smoke scripts, only when a secret is configured):
 *   `telnyx-signature` = base64(HMAC-SHA256(secret, `${timestamp}.${rawBody}`)).
 *
 * Runs on every webhook (≥ 3,000/s per process), so the public key is parsed once at construction and
 * the per-call work is one Buffer.concat plus one verify. (Running that verify on libuv's thread pool
 * was measured: less event-loop time, ~25 % more CPU per webhook, fewer acks/s on 2 cores; not kept.)
 */
import { createHmac, createPublicKey, timingSafeEqual, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { AppError } from '../errors';

export type WebhookHeaders = Record<string, string | string[] | undefined>;

export type VerifyFailureReason =
  | 'missing_signature'
  | 'missing_timestamp'
  | 'stale_timestamp'
  | 'bad_signature'
  | 'malformed_signature';

export type VerifyResult = { ok: true; scheme: 'ed25519' | 'hmac' } | { ok: false; reason: VerifyFailureReason };

export interface WebhookVerifierOptions {
  /** TELNYX_PUBLIC_KEY: base64 of the RAW 32-byte Ed25519 public key, as shown in the Telnyx portal. */
  publicKeyB64: string;
  /** TELNYX_WEBHOOK_SECRET: enables the local HMAC scheme. Unset/empty = HMAC signatures are ignored. */
  hmacSecret?: string;
  /** Allowed |now − timestamp| in seconds (replay window). */
  toleranceSec?: number;
  /** Milliseconds since the epoch. */
  now?: () => number;
}

export interface WebhookVerifier {
  verify(headers: WebhookHeaders, rawBody: Buffer): VerifyResult;
}

export const ED25519_SIGNATURE_HEADER = 'telnyx-signature-ed25519';
export const HMAC_SIGNATURE_HEADER = 'telnyx-signature';
export const TIMESTAMP_HEADER = 'telnyx-timestamp';

/** DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw 32-byte key follows it. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const TIMESTAMP = /^\d{1,15}$/;
const PIPE = Buffer.from('|');
const DOT = Buffer.from('.');

/** Builds the KeyObject from the raw key; throws (at boot) on anything that is not 32 raw key bytes. */
export function ed25519PublicKeyFromRaw(publicKeyB64: string): KeyObject {
  const s = publicKeyB64.trim();
  const raw = BASE64.test(s) ? Buffer.from(s, 'base64') : Buffer.alloc(0);
  if (raw.length !== 32) {
    throw new AppError('invalid_public_key', 'TELNYX_PUBLIC_KEY must be the base64 of a raw 32-byte Ed25519 public key');
  }
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

/** Node lowercases incoming header names; callers building headers by hand may not, so fall back to a scan. */
function header(headers: WebhookHeaders, name: string): string | undefined {
  let v = headers[name];
  if (v === undefined) {
    for (const k of Object.keys(headers)) {
      if (k.toLowerCase() === name) {
        v = headers[k];
        break;
      }
    }
  }
  const s = Array.isArray(v) ? v[0] : v;
  const t = s?.trim();
  return t ? t : undefined;
}

/** Decodes strict base64 of an exact length; null when malformed (Buffer.from alone silently skips junk). */
function decodeBase64(s: string, expectedLength: number): Buffer | null {
  if (!BASE64.test(s)) return null;
  const buf = Buffer.from(s, 'base64');
  return buf.length === expectedLength ? buf : null;
}

export function createWebhookVerifier(opts: WebhookVerifierOptions): WebhookVerifier {
  const key = ed25519PublicKeyFromRaw(opts.publicKeyB64);
  const hmacSecret = opts.hmacSecret ? opts.hmacSecret : undefined;
  const toleranceSec = opts.toleranceSec ?? 300;
  const now = opts.now ?? Date.now;

  const ED25519_OK: VerifyResult = { ok: true, scheme: 'ed25519' };
  const BAD_SIGNATURE: VerifyResult = { ok: false, reason: 'bad_signature' };
  const MALFORMED: VerifyResult = { ok: false, reason: 'malformed_signature' };

  const verifyEd25519 = (ts: string, sigB64: string, rawBody: Buffer): VerifyResult => {
    const sig = decodeBase64(sigB64, 64);
    if (!sig) return MALFORMED;
    const msg = Buffer.concat([Buffer.from(ts), PIPE, rawBody]);
    let ok: boolean;
    try {
      ok = cryptoVerify(null, msg, key, sig);
    } catch {
      // OpenSSL rejects some byte patterns outright instead of returning false; same outcome for us.
      ok = false;
    }
    return ok ? ED25519_OK : BAD_SIGNATURE;
  };

  const verifyHmac = (secret: string, ts: string, sigB64: string, rawBody: Buffer): VerifyResult => {
    // Length is checked before comparing (timingSafeEqual requires equal lengths); the length of an
    // HMAC-SHA256 is public, so this leaks nothing.
    const sig = decodeBase64(sigB64, 32);
    if (!sig) return { ok: false, reason: 'malformed_signature' };
    const expected = createHmac('sha256', secret).update(ts).update(DOT).update(rawBody).digest();
    return timingSafeEqual(sig, expected) ? { ok: true, scheme: 'hmac' } : { ok: false, reason: 'bad_signature' };
  };

  /** What both forms share before any crypto: the headers, and the timestamp inside the replay window. */
  const precheck = (headers: WebhookHeaders): VerifyResult | { ts: string; edSig: string | undefined; hmacSig: string | undefined } => {
    const edSig = header(headers, ED25519_SIGNATURE_HEADER);
    const hmacSig = hmacSecret === undefined ? undefined : header(headers, HMAC_SIGNATURE_HEADER);
    if (edSig === undefined && hmacSig === undefined) return { ok: false, reason: 'missing_signature' };

    const ts = header(headers, TIMESTAMP_HEADER);
    if (ts === undefined || !TIMESTAMP.test(ts)) return { ok: false, reason: 'missing_timestamp' };
    // Checked before any crypto: a replayed or forged-old request costs us nothing.
    if (Math.abs(now() / 1000 - Number(ts)) > toleranceSec) return { ok: false, reason: 'stale_timestamp' };
    return { ts, edSig, hmacSig };
  };

  /** The HMAC half, after the Ed25519 verdict (`failure`, undefined when no Ed25519 signature came). */
  const withHmac = (ts: string, hmacSig: string | undefined, rawBody: Buffer, failure: VerifyResult | undefined): VerifyResult => {
    if (hmacSig !== undefined && hmacSecret !== undefined) {
      const r = verifyHmac(hmacSecret, ts, hmacSig, rawBody);
      if (r.ok) return r;
      // A well-formed signature that did not match is the more telling reason to report.
      if (!failure || r.reason === 'bad_signature') failure = r;
    }
    return failure ?? { ok: false, reason: 'missing_signature' };
  };

  return {
    verify(headers, rawBody) {
      const pre = precheck(headers);
      if ('ok' in pre) return pre;
      let failure: VerifyResult | undefined;
      if (pre.edSig !== undefined) {
        failure = verifyEd25519(pre.ts, pre.edSig, rawBody);
        if (failure.ok) return failure;
      }
      return withHmac(pre.ts, pre.hmacSig, rawBody, failure);
    },
  };
}
