export { Capacity, DEFAULT_RATE_WINDOW_MS, type CapacityOptions } from './capacity';
export { capacityKeys, tenantCapOverrideKeys, webrtcCapacityPrefix, webrtcOfferRatePrefix, type CapacityKeys } from './capacity-keys';
export { LeaseKeeper, type LeaseKeeperOptions } from './lease-keeper';
export { browserCallLimits, resolveTenantLimits, pickLimit, positiveIntOrUndefined, type BrowserCallCaps, type TenantCaps, type ResolveTenantLimitsInput } from './tenant-limits';
export type { AcquireResult, CapacityDenyReason, CapacityLimits, CapacityUsage, LeaseEntry } from './types';
