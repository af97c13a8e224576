import type { Redis } from 'ioredis';
import { AppError } from '../errors';
import { STRICT_URL_POLICY, type UrlPolicy } from '../net/url-policy';
import { normalizeE164 } from './e164';
import { parseTenantConfig, type TenantConfig } from './tenant-config';
import { tenantKeys } from './tenant-keys';

export type TenantResolution =
  | { kind: 'ok'; did: string; tenantId: string; config: TenantConfig }
  | { kind: 'not_configured'; did?: string }
  | { kind: 'invalid_config'; did: string; tenantId: string; problems: string[] };

interface CacheEntry {
  value: TenantResolution;
  expiresAt: number;
}

/** Bounded so a flood of calls to random numbers cannot grow memory without limit. */
const MAX_CACHE_ENTRIES = 10_000;

/**
 * DID → tenant → config, with a short in-process cache (TENANT_CACHE_TTL_MS) so a config change in
 * Redis takes effect within seconds while call setup avoids two Redis round trips per call.
 * A Redis failure throws (retryable AppError): it is NOT "not configured".
 */
export class TenantResolver {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly keys: ReturnType<typeof tenantKeys>;

  constructor(
    private readonly redis: Redis,
    tenantmapPrefix: string,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    /** URL fields of tenant configs are checked against it (an offending config is invalid_config). */
    private readonly urlPolicy: UrlPolicy = STRICT_URL_POLICY,
  ) {
    this.keys = tenantKeys(tenantmapPrefix);
  }

  async resolve(to: string | undefined): Promise<TenantResolution> {
    const did = normalizeE164(to);
    if (!did) return { kind: 'not_configured' };
    const hit = this.cache.get(did);
    if (hit && hit.expiresAt > this.now()) return hit.value;
    const value = await this.load(did);
    if (this.cache.size >= MAX_CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(did, { value, expiresAt: this.now() + this.ttlMs });
    return value;
  }

  invalidate(): void {
    this.cache.clear();
  }

  private async load(did: string): Promise<TenantResolution> {
    try {
      const tenantId = (await this.redis.get(this.keys.did(did)))?.trim();
      if (!tenantId) return { kind: 'not_configured', did };
      const raw = await this.redis.get(this.keys.config(tenantId));
      if (raw === null) return { kind: 'invalid_config', did, tenantId, problems: ['tenant config missing'] };
      const parsed = parseTenantConfig(raw, tenantId, this.urlPolicy);
      return parsed.ok ? { kind: 'ok', did, tenantId, config: parsed.config } : { kind: 'invalid_config', did, tenantId, problems: parsed.problems };
    } catch (err) {
      throw new AppError('tenant_lookup_failed', `tenant lookup failed: ${(err as Error).message}`, { retryable: true, cause: err });
    }
  }
}
