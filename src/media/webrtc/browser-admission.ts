/**
 * Who may place a browser call, decided before anything costs a slot: the tenant must exist with
 * a valid config, allow browser calls, and (when it asks for one) the offer must carry a valid
 * join token. Every refusal looks the same to the caller (`callRefused`), so the endpoint does not
 * tell which tenant ids exist; the reason goes to the log and the metrics only. Pure: the tenant
 * lookup and the clock are inputs.
 */
import { pickLimit } from '../../lib/capacity/tenant-limits';
import type { CapacityLimits } from '../../lib/capacity/types';
import { AppError } from '../../lib/errors';
import type { TenantConfig } from '../../lib/tenants/tenant-config';
import { JOIN_TOKEN_MIN_SECRET_CHARS, verifyJoinToken } from '../../lib/webrtc/join-token';

export type TenantLookup = { kind: 'ok'; config: TenantConfig } | { kind: 'missing' } | { kind: 'invalid'; problems: string[] };

export type TenantRefusal = 'tenant_unknown' | 'tenant_invalid' | 'webrtc_disabled' | 'token_secret_missing' | 'token_missing' | 'token_invalid' | 'token_expired';

/** Browser-call caps and token policy for tenants whose config does not say (WEBRTC_* env). */
export interface BrowserCallDefaults {
  globalMax: number;
  tenantMax: number;
  tenantPerMinute: number;
  requireJoinToken: boolean;
}

export interface BrowserAdmissionInput {
  tenantId: string;
  lookup: TenantLookup;
  joinToken: string | undefined;
  /** The request's Origin header. */
  origin: string | undefined;
  defaults: BrowserCallDefaults;
  /** Unix ms. */
  now: number;
}

export type BrowserAdmission = { ok: true; tenant: TenantConfig; limits: CapacityLimits } | { ok: false; reason: TenantRefusal; detail?: string };

export function admitBrowserCall(input: BrowserAdmissionInput): BrowserAdmission {
  const { lookup, defaults } = input;
  if (lookup.kind === 'missing') return { ok: false, reason: 'tenant_unknown' };
  if (lookup.kind === 'invalid') return { ok: false, reason: 'tenant_invalid', detail: lookup.problems.join('; ') };
  const tenant = lookup.config;
  const w = tenant.webrtc ?? {};
  if (w.enabled === false) return { ok: false, reason: 'webrtc_disabled' };
  if (w.requireJoinToken ?? defaults.requireJoinToken) {
    const secret = w.joinTokenSecret;
    if (!secret || secret.length < JOIN_TOKEN_MIN_SECRET_CHARS) {
      return { ok: false, reason: 'token_secret_missing', detail: `join tokens are required but webrtc.joinTokenSecret is not set (>= ${JOIN_TOKEN_MIN_SECRET_CHARS} chars)` };
    }
    if (!input.joinToken) return { ok: false, reason: 'token_missing' };
    const check = verifyJoinToken({ token: input.joinToken, secret, tenantId: input.tenantId, origin: input.origin, now: input.now });
    if (check === 'expired') return { ok: false, reason: 'token_expired' };
    if (check !== 'ok') return { ok: false, reason: 'token_invalid', detail: check };
  }
  return {
    ok: true,
    tenant,
    limits: {
      globalMax: defaults.globalMax,
      tenantMax: pickLimit([w.maxConcurrentCalls], defaults.tenantMax),
      tenantPerMinute: pickLimit([w.maxCallsPerMinute], defaults.tenantPerMinute),
    },
  };
}

/** The one answer for every refusal above: same status, code and message whatever the reason. */
export function callRefused(): AppError {
  return new AppError('call_refused', 'This call cannot be placed from this link. Please contact the business you are trying to reach.', { status: 403 });
}
