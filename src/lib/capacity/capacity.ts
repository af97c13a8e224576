/**
 * Per-tenant capacity caps backed by Redis: global concurrency, tenant concurrency and tenant
 * calls per (sliding) minute. Slots are leases that expire unless refreshed (see LeaseKeeper), so
 * a crashed instance cannot leak capacity. Every operation is one atomic Lua script.
 */
import type { Redis } from 'ioredis';
import { AppError, errorMessage } from '../errors';
import { capacityKeys, type CapacityKeys } from './capacity-keys';
import { defineCapacityCommands, type CapacityCommands } from './capacity-scripts';
import type { AcquireResult, CapacityDenyReason, CapacityLimits, CapacityUsage, LeaseEntry } from './types';

export const DEFAULT_RATE_WINDOW_MS = 60_000;

const DENY_REASONS: Record<number, CapacityDenyReason> = {
  [-1]: 'global_concurrency',
  [-2]: 'tenant_concurrency',
  [-3]: 'tenant_rate',
};

export interface CapacityOptions {
  redis: Redis;
  /** CAP_PREFIX; see capacity-keys.ts for the Redis Cluster hash-tag note. */
  prefix: string;
  /** Length of the sliding rate window; only tests shorten it. */
  rateWindowMs?: number;
}

export class Capacity {
  private readonly cmd: CapacityCommands;
  private readonly keys: CapacityKeys;
  private readonly windowMs: number;

  constructor(opts: CapacityOptions) {
    this.windowMs = opts.rateWindowMs ?? DEFAULT_RATE_WINDOW_MS;
    positiveInt('rateWindowMs', this.windowMs);
    this.cmd = defineCapacityCommands(opts.redis);
    this.keys = capacityKeys(opts.prefix);
  }

  /** Admits the call or says which cap refused it. Safe to retry for the same call. */
  async acquire(callId: string, tenantId: string, limits: CapacityLimits, leaseMs: number): Promise<AcquireResult> {
    nonNegativeInt('globalMax', limits.globalMax);
    nonNegativeInt('tenantMax', limits.tenantMax);
    nonNegativeInt('tenantPerMinute', limits.tenantPerMinute);
    positiveInt('leaseMs', leaseMs);
    const k = this.keys;
    const code = await this.run('acquire', () =>
      this.cmd.capacityAcquire(
        k.globalLeases,
        k.tenantLeases(tenantId),
        k.tenantRate(tenantId),
        callId,
        limits.globalMax,
        limits.tenantMax,
        limits.tenantPerMinute,
        leaseMs,
        this.windowMs,
      ),
    );
    if (code === 1 || code === 2) return { ok: true, alreadyHeld: code === 2 };
    const reason = DENY_REASONS[code];
    if (!reason) throw new AppError('capacity_error', `capacity acquire returned unexpected code ${code}`, { status: 503, retryable: true });
    return { ok: false, reason };
  }

  /**
   * Extends the leases of the given calls and returns the callIds that no longer hold one
   * (released or expired), so the caller can forget them. One script call per tenant, sent together.
   */
  async refresh(entries: readonly LeaseEntry[], leaseMs: number): Promise<string[]> {
    positiveInt('leaseMs', leaseMs);
    const byTenant = new Map<string, string[]>();
    for (const e of entries) {
      const ids = byTenant.get(e.tenantId) ?? [];
      ids.push(e.callId);
      byTenant.set(e.tenantId, ids);
    }
    const gone = await this.run('refresh', () =>
      Promise.all(
        [...byTenant].map(([tenantId, ids]) =>
          this.cmd.capacityRefresh(this.keys.globalLeases, this.keys.tenantLeases(tenantId), leaseMs, ...ids),
        ),
      ),
    );
    return gone.flat();
  }

  /** Frees the call's slot; true when it held an unexpired lease. Idempotent. */
  async release(callId: string, tenantId: string): Promise<boolean> {
    const held = await this.run('release', () =>
      this.cmd.capacityRelease(this.keys.globalLeases, this.keys.tenantLeases(tenantId), callId),
    );
    return held === 1;
  }

  /**
   * Undoes an acquire for a call that never started: frees the slot and gives the admission back
   * to the rate window. Idempotent; true when there was something to undo.
   */
  async cancel(callId: string, tenantId: string): Promise<boolean> {
    const k = this.keys;
    const undone = await this.run('cancel', () => this.cmd.capacityCancel(k.globalLeases, k.tenantLeases(tenantId), k.tenantRate(tenantId), callId));
    return undone === 1;
  }

  /** Live counts (expired leases excluded) for metrics, tools and tests. */
  async usage(tenantId: string): Promise<CapacityUsage> {
    const k = this.keys;
    const [global, tenant, tenantLastMinute] = await this.run('usage', () =>
      this.cmd.capacityUsage(k.globalLeases, k.tenantLeases(tenantId), k.tenantRate(tenantId), this.windowMs),
    );
    return { global, tenant, tenantLastMinute };
  }

  /** Redis/Lua failures become one typed, retryable error so callers can answer "try again later". */
  private async run<T>(op: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new AppError('capacity_error', `capacity ${op} failed: ${errorMessage(err)}`, {
        status: 503,
        retryable: true,
        cause: err,
      });
    }
  }
}

// Bad arguments are programming errors; catching them here keeps garbage out of the Lua scripts.
function nonNegativeInt(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new AppError('capacity_invalid_argument', `${name} must be an integer >= 0, got ${v}`);
}

function positiveInt(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v <= 0) throw new AppError('capacity_invalid_argument', `${name} must be an integer > 0, got ${v}`);
}
