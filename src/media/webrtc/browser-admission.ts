/**
 * Who may place a browser call, decided before anything costs a slot: the tenant must exist with
 * a valid config (the tenant stage of lib/calls/admission.ts), allow browser calls, and (when it
 * asks for one) the offer must carry a valid join token. Every refusal looks the same to the
 * caller (`callRefused`), so the endpoint does not tell which tenant ids exist; the reason goes to
 * the log and the metrics only. Pure: the tenant and the clock are inputs.
 */
import type { TenantRefusal } from '../../lib/calls/admission';
import { AppError } from '../../lib/errors';
import type { TenantConfig } from '../../lib/tenants/tenant-config';
import { JOIN_TOKEN_MIN_SECRET_CHARS, verifyJoinToken } from '../../lib/webrtc/join-token';

export type BrowserCallRefusal = 'tenant_unknown' | 'tenant_invalid' | 'webrtc_disabled' | 'token_secret_missing' | 'token_missing' | 'token_invalid' | 'token_expired';

/** Why a browser call was refused: for the log and metrics only. */
export interface BrowserCallRefused {
  reason: BrowserCallRefusal;
  detail?: string;
}

export type BrowserCallCheck = { ok: true } | ({ ok: false } & BrowserCallRefused);

export interface BrowserCallerInput {
  tenantId: string;
  tenant: TenantConfig;
  joinToken: string | undefined;
  /** The request's Origin header. */
  origin: string | undefined;
  /** WEBRTC_REQUIRE_JOIN_TOKEN: for tenants whose config does not say. */
  requireJoinToken: boolean;
  /** Unix ms. */
  now: number;
}

/** The refusal reason of a tenant the admission could not resolve. */
export function tenantRefusal(r: TenantRefusal): BrowserCallRefused {
  return r.kind === 'not_configured' ? { reason: 'tenant_unknown' } : { reason: 'tenant_invalid', detail: r.problems.join('; ') };
}

/** The tenant's own rules for browser calls: enabled, and a join token when it asks for one. */
export function checkBrowserCaller(input: BrowserCallerInput): BrowserCallCheck {
  const w = input.tenant.webrtc ?? {};
  if (w.enabled === false) return { ok: false, reason: 'webrtc_disabled' };
  if (w.requireJoinToken ?? input.requireJoinToken) {
    const secret = w.joinTokenSecret;
    if (!secret || secret.length < JOIN_TOKEN_MIN_SECRET_CHARS) {
      return { ok: false, reason: 'token_secret_missing', detail: `join tokens are required but webrtc.joinTokenSecret is not set (>= ${JOIN_TOKEN_MIN_SECRET_CHARS} chars)` };
    }
    if (!input.joinToken) return { ok: false, reason: 'token_missing' };
    const check = verifyJoinToken({ token: input.joinToken, secret, tenantId: input.tenantId, origin: input.origin, now: input.now });
    if (check === 'expired') return { ok: false, reason: 'token_expired' };
    if (check !== 'ok') return { ok: false, reason: 'token_invalid', detail: check };
  }
  return { ok: true };
}

/** The one answer for every refusal above: same status, code and message whatever the reason. */
export function callRefused(): AppError {
  return new AppError('call_refused', 'This call cannot be placed from this link. Please contact the business you are trying to reach.', { status: 403 });
}
