/**
 * Decides the caps for one tenant's call. Precedence for tenant concurrency and rate:
 * operator override key in Redis > tenant config > env default. The global cap is the env
 * GLOBAL_CONCURRENCY_CAP unless the tenant config sets maxConcurrentCallsGlobal, which then applies
 * to that tenant's calls (original product semantics). Invalid values at any level are skipped.
 */
import type { Redis } from 'ioredis';
import { AppError, errorMessage } from '../errors';
import { tenantCapOverrideKeys } from './capacity-keys';
import type { CapacityLimits } from './types';

export interface TenantCaps {
  maxConcurrentCallsTenant?: number;
  maxCallsPerMinuteTenant?: number;
  maxConcurrentCallsGlobal?: number;
}

export interface ResolveTenantLimitsInput {
  redis: Redis;
  tenantmapPrefix: string;
  tenantId: string;
  tenantCaps?: TenantCaps;
  defaults: CapacityLimits;
}

/** A positive safe integer from a Redis string or a config number; undefined when invalid. */
export function positiveIntOrUndefined(v: unknown): number | undefined {
  let n: number | undefined;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^\s*\d+\s*$/.test(v)) n = Number(v);
  return n !== undefined && Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** First valid candidate, in precedence order; the env default is always valid (config enforces it). */
export function pickLimit(candidates: readonly unknown[], fallback: number): number {
  for (const c of candidates) {
    const n = positiveIntOrUndefined(c);
    if (n !== undefined) return n;
  }
  return fallback;
}

export async function resolveTenantLimits(input: ResolveTenantLimitsInput): Promise<CapacityLimits> {
  const { redis, tenantmapPrefix, tenantId, tenantCaps, defaults } = input;
  const keys = tenantCapOverrideKeys(tenantmapPrefix, tenantId);
  let concurrency: string | null;
  let rpm: string | null;
  try {
    [concurrency, rpm] = await redis.mget(keys.concurrency, keys.rpm);
  } catch (err) {
    throw new AppError('capacity_error', `reading capacity overrides failed: ${errorMessage(err)}`, {
      status: 503,
      retryable: true,
      cause: err,
    });
  }
  return {
    globalMax: pickLimit([tenantCaps?.maxConcurrentCallsGlobal], defaults.globalMax),
    tenantMax: pickLimit([concurrency, tenantCaps?.maxConcurrentCallsTenant], defaults.tenantMax),
    tenantPerMinute: pickLimit([rpm, tenantCaps?.maxCallsPerMinuteTenant], defaults.tenantPerMinute),
  };
}

/** A tenant config's `webrtc` block, as far as caps go. */
export interface BrowserCallCaps {
  maxConcurrentCalls?: number;
  maxCallsPerMinute?: number;
}

/**
 * Caps of a browser call: the tenant's `webrtc` block, else the WEBRTC_* env defaults. Never the
 * phone line's caps or override keys (browser calls count in their own key space), and the global
 * cap is always the browser one (a tenant cannot raise it for strangers on its page).
 */
export function browserCallLimits(webrtc: BrowserCallCaps | undefined, defaults: CapacityLimits): CapacityLimits {
  return {
    globalMax: defaults.globalMax,
    tenantMax: pickLimit([webrtc?.maxConcurrentCalls], defaults.tenantMax),
    tenantPerMinute: pickLimit([webrtc?.maxCallsPerMinute], defaults.tenantPerMinute),
  };
}
