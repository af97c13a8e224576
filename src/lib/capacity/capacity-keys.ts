/**
 * Every Redis key of the capacity module is built here, so the layout is visible in one place.
 *
 * Redis Cluster: the acquire script touches the global key and the tenant's keys in one call, so
 * they must hash to the same slot. Cluster deployments put a hash tag in the prefix
 * (CAP_PREFIX="{cap}"); a plain prefix is fine on a single Redis or Sentinel setup.
 */
export interface CapacityKeys {
  /** zset: member callId, score = lease expiry (ms, Redis server time). */
  globalLeases: string;
  /** zset: member callId, score = lease expiry (ms, Redis server time). */
  tenantLeases(tenantId: string): string;
  /** zset: member callId, score = admission time (ms); the sliding calls-per-minute window. */
  tenantRate(tenantId: string): string;
}

export function capacityKeys(prefix: string): CapacityKeys {
  return {
    globalLeases: `${prefix}:global:leases`,
    tenantLeases: (tenantId) => `${prefix}:tenant:${tenantId}:leases`,
    tenantRate: (tenantId) => `${prefix}:tenant:${tenantId}:rate`,
  };
}

/**
 * Browser (WebRTC) calls use the same scripts in their own key space, `${CAP_PREFIX}:webrtc:…`, so
 * their leases and rate window never count against the phone line's caps. The prefix keeps the
 * CAP_PREFIX hash tag, so Cluster slots work as above. No phone key starts with it (phone keys are
 * `${CAP_PREFIX}:global:…` and `${CAP_PREFIX}:tenant:…`).
 */
export function webrtcCapacityPrefix(capPrefix: string): string {
  return `${capPrefix}:webrtc`;
}

/** Per-client-IP WebRTC offer rate: zset `${CAP_PREFIX}:webrtc:offers:ip:<address or IPv6 /64>`. */
export function webrtcOfferRatePrefix(capPrefix: string): string {
  return `${webrtcCapacityPrefix(capPrefix)}:offers:ip`;
}

/** Operator overrides of a tenant's caps (string integers), kept next to the tenant map. */
export function tenantCapOverrideKeys(tenantmapPrefix: string, tenantId: string): { concurrency: string; rpm: string } {
  return {
    concurrency: `${tenantmapPrefix}:tenant:${tenantId}:cap:concurrency`,
    rpm: `${tenantmapPrefix}:tenant:${tenantId}:cap:rpm`,
  };
}
