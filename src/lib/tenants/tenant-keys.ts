/** Tenant routing keys: the original product's layout, kept so its Redis data works unchanged. */
export const tenantKeys = (tenantmapPrefix: string) => ({
  did: (e164: string) => `${tenantmapPrefix}:did:${e164}`,
  config: (tenantId: string) => `tenantcfg:${tenantId}`,
  capOverrideConcurrency: (tenantId: string) => `${tenantmapPrefix}:tenant:${tenantId}:cap:concurrency`,
  capOverrideRpm: (tenantId: string) => `${tenantmapPrefix}:tenant:${tenantId}:cap:rpm`,
});
