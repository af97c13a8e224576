import type { Redis } from 'ioredis';
import { AppError, errorMessage } from '../errors';
import { STRICT_URL_POLICY, type UrlPolicy } from '../net/url-policy';
import { normalizeE164 } from './e164';
import { parseTenantConfig, type TenantConfig } from './tenant-config';
import { tenantKeys } from './tenant-keys';
import { TtlCache } from './ttl-cache';

/** A phone call's tenant, found by the dialled number (DID). */
export type TenantResolution =
  | { kind: 'ok'; did: string; tenantId: string; config: TenantConfig }
  | { kind: 'not_configured'; did?: string }
  | { kind: 'invalid_config'; did: string; tenantId: string; problems: string[] };

/** A browser call's tenant, named by the caller's page. */
export type TenantIdResolution =
  | { kind: 'ok'; tenantId: string; config: TenantConfig }
  | { kind: 'not_configured'; tenantId: string }
  | { kind: 'invalid_config'; tenantId: string; problems: string[] };

/** `tenantcfg:<id>` as read and checked once, shared by both lookups. */
type ConfigEntry = { kind: 'ok'; config: TenantConfig } | { kind: 'missing' } | { kind: 'invalid'; problems: string[] };

/** Bounded so a flood of calls to random numbers (or offers for random tenant ids) cannot grow memory without limit. */
const MAX_CACHE_ENTRIES = 10_000;

/**
 * DID → tenant id and tenant id → config, each with a short in-process cache (TENANT_CACHE_TTL_MS)
 * so a config change in Redis takes effect within seconds while call setup avoids two Redis round
 * trips per call. Phone calls come in by DID, browser calls by tenant id; both read the same cached
 * configs, checked against the same URL policy.
 * A Redis failure throws (retryable AppError): it is NOT "not configured".
 */
export class TenantResolver {
  private readonly tenantIds: TtlCache<string | null>;
  private readonly configs: TtlCache<ConfigEntry>;
  private readonly keys: ReturnType<typeof tenantKeys>;

  constructor(
    private readonly redis: Redis,
    tenantmapPrefix: string,
    ttlMs: number,
    now: () => number = Date.now,
    /** URL fields of tenant configs are checked against it (an offending config is invalid_config). */
    private readonly urlPolicy: UrlPolicy = STRICT_URL_POLICY,
  ) {
    this.keys = tenantKeys(tenantmapPrefix);
    this.tenantIds = new TtlCache(MAX_CACHE_ENTRIES, ttlMs, now);
    this.configs = new TtlCache(MAX_CACHE_ENTRIES, ttlMs, now);
  }

  /** By dialled number (`to` of call.initiated, any spelling normalizeE164 accepts). */
  async resolve(to: string | undefined): Promise<TenantResolution> {
    const did = normalizeE164(to);
    if (!did) return { kind: 'not_configured' };
    const tenantId = await this.tenantIdOf(did);
    if (!tenantId) return { kind: 'not_configured', did };
    const entry = await this.configOf(tenantId);
    if (entry.kind === 'ok') return { kind: 'ok', did, tenantId, config: entry.config };
    // A mapped number without a usable config is a half-configured tenant, not an unknown number.
    return { kind: 'invalid_config', did, tenantId, problems: entry.kind === 'missing' ? ['tenant config missing'] : entry.problems };
  }

  /** By tenant id (browser calls): no config at all is an unknown tenant. */
  async byTenantId(tenantId: string): Promise<TenantIdResolution> {
    const entry = await this.configOf(tenantId);
    if (entry.kind === 'ok') return { kind: 'ok', tenantId, config: entry.config };
    if (entry.kind === 'missing') return { kind: 'not_configured', tenantId };
    return { kind: 'invalid_config', tenantId, problems: entry.problems };
  }

  invalidate(): void {
    this.tenantIds.clear();
    this.configs.clear();
  }

  private async tenantIdOf(did: string): Promise<string | null> {
    const hit = this.tenantIds.get(did);
    if (hit !== undefined) return hit;
    const tenantId = (await this.read(this.keys.did(did)))?.trim() || null;
    this.tenantIds.set(did, tenantId);
    return tenantId;
  }

  private async configOf(tenantId: string): Promise<ConfigEntry> {
    const hit = this.configs.get(tenantId);
    if (hit) return hit;
    const raw = await this.read(this.keys.config(tenantId));
    let entry: ConfigEntry;
    if (raw === null) entry = { kind: 'missing' };
    else {
      const parsed = parseTenantConfig(raw, tenantId, this.urlPolicy);
      entry = parsed.ok ? { kind: 'ok', config: parsed.config } : { kind: 'invalid', problems: parsed.problems };
    }
    this.configs.set(tenantId, entry);
    return entry;
  }

  private async read(key: string): Promise<string | null> {
    try {
      return await this.redis.get(key);
    } catch (err) {
      throw new AppError('tenant_lookup_failed', `tenant lookup failed: ${errorMessage(err)}`, { retryable: true, cause: err });
    }
  }
}
