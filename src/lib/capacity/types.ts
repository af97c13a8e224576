/** Caps applied to one acquire; resolved per tenant by tenant-limits.ts. */
export interface CapacityLimits {
  /** Calls in flight across all tenants (the tenant config may override it for its own calls). */
  globalMax: number;
  /** Calls in flight for this tenant. */
  tenantMax: number;
  /** Calls admitted for this tenant in the sliding window (60 s by default). */
  tenantPerMinute: number;
}

export type CapacityDenyReason = 'global_concurrency' | 'tenant_concurrency' | 'tenant_rate';

export type AcquireResult = { ok: true; alreadyHeld: boolean } | { ok: false; reason: CapacityDenyReason };

export interface CapacityUsage {
  global: number;
  tenant: number;
  /** Calls admitted in the current sliding window (named for the default 60 s window). */
  tenantLastMinute: number;
}

export interface LeaseEntry {
  callId: string;
  tenantId: string;
}
