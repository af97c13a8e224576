/**
 * Join tokens for browser calls: a tenant's web site proves that it sent the caller, so a tenant
 * can keep strangers from placing calls from its /hd-call link. Format (every part ASCII):
 *
 *   v1.<exp>.<nonce>.<sig>
 *     exp    expiry, unix seconds (decimal); at most JOIN_TOKEN_MAX_TTL_SEC ahead
 *     nonce  8–64 chars of base64url (the helper uses 16 random bytes)
 *     sig    base64url(HMAC-SHA256(tenant secret, "v1\n<tenantId>\n<exp>\n<nonce>\n<origin>"))
 *
 * `origin` is the page origin the token is bound to (`https://shop.example.com`, as browsers send
 * it in the Origin header; normalized: lowercase host, no default port or trailing slash) or the empty string for a token usable from any allowed origin. The
 * tenant id is in the signed text only, so a token for one tenant never opens another. A token
 * may be used more than once until it expires (a page may retry its offer); its short life
 * bounds the replay window.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { normalizeOrigin } from './origin';

/** Tokens are minted per page load; five minutes covers a slow microphone prompt. */
export const JOIN_TOKEN_MAX_TTL_SEC = 300;
/** Tolerated clock difference between the minting web site and this server. */
export const JOIN_TOKEN_CLOCK_SKEW_SEC = 60;
/** A secret shorter than this is a configuration mistake (HMAC-SHA256 keys want ≥ 128 bits). */
export const JOIN_TOKEN_MIN_SECRET_CHARS = 16;

const TOKEN = /^v1\.(\d{1,12})\.([A-Za-z0-9_-]{8,64})\.([A-Za-z0-9_-]{43})$/;

export type JoinTokenCheck = 'ok' | 'malformed' | 'bad_signature' | 'expired' | 'expiry_too_far';

export interface MintJoinTokenInput {
  secret: string;
  tenantId: string;
  /** Bind the token to this page origin; omit for any allowed origin. */
  origin?: string;
  /** Lifetime in seconds (1 … JOIN_TOKEN_MAX_TTL_SEC); default JOIN_TOKEN_MAX_TTL_SEC. */
  ttlSec?: number;
  /** Unix ms; default Date.now(). */
  now?: number;
}

export function mintJoinToken(input: MintJoinTokenInput): string {
  const ttl = input.ttlSec ?? JOIN_TOKEN_MAX_TTL_SEC;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > JOIN_TOKEN_MAX_TTL_SEC) throw new RangeError(`ttlSec must be an integer 1–${JOIN_TOKEN_MAX_TTL_SEC}, got ${ttl}`);
  if (input.secret.length < JOIN_TOKEN_MIN_SECRET_CHARS) throw new RangeError(`the join-token secret must be at least ${JOIN_TOKEN_MIN_SECRET_CHARS} characters`);
  const exp = Math.floor((input.now ?? Date.now()) / 1000) + ttl;
  const nonce = randomBytes(16).toString('base64url');
  return `v1.${exp}.${nonce}.${sign(input.secret, input.tenantId, String(exp), nonce, input.origin ? normalizeOrigin(input.origin) : '')}`;
}

export interface VerifyJoinTokenInput {
  token: string;
  secret: string;
  tenantId: string;
  /** The request's Origin header, if any: a token bound to it is accepted, as is an unbound one. */
  origin?: string;
  /** Unix ms. */
  now: number;
}

/** Constant-time in the signature; never throws. */
export function verifyJoinToken(input: VerifyJoinTokenInput): JoinTokenCheck {
  const m = TOKEN.exec(input.token);
  if (!m) return 'malformed';
  const [, exp, nonce, sig] = m as unknown as [string, string, string, string];
  const given = Buffer.from(sig, 'base64url');
  const candidates = input.origin ? [normalizeOrigin(input.origin), ''] : [''];
  let valid = false;
  for (const origin of candidates) {
    const expected = Buffer.from(sign(input.secret, input.tenantId, exp, nonce, origin), 'base64url');
    // Both are 32 bytes (the pattern fixes the length); `|=` keeps the work independent of which matched.
    valid = (given.length === expected.length && timingSafeEqual(given, expected)) || valid;
  }
  if (!valid) return 'bad_signature';
  const nowSec = Math.floor(input.now / 1000);
  const expSec = Number(exp);
  if (expSec <= nowSec) return 'expired';
  if (expSec > nowSec + JOIN_TOKEN_MAX_TTL_SEC + JOIN_TOKEN_CLOCK_SKEW_SEC) return 'expiry_too_far';
  return 'ok';
}

function sign(secret: string, tenantId: string, exp: string, nonce: string, origin: string): string {
  return createHmac('sha256', secret).update(`v1\n${tenantId}\n${exp}\n${nonce}\n${origin}`).digest('base64url');
}
