/**
 * Admission of a call, the same for phone and browser calls: the tenant (by dialled number or by
 * tenant id, through the TenantResolver and its cache), the caps for this line, a slot from the
 * capacity script, the lease kept alive by this instance, and the capacity metrics. One instance
 * per line: phone calls and browser calls have their own key space, caps, lease keeper and
 * metrics, so browser traffic can never take a phone slot.
 *
 * The outcome is a discriminated union; the transport decides what the caller gets (a prompt on
 * the phone, an HTTP status in the browser). A Redis failure is `store_error`, never "not
 * configured". An admitted call comes with a handle whose `release()` (the call ran) or
 * `cancel()` (it never started: the slot and its place in the calls-per-minute window go back)
 * takes effect once, whichever is called first and however often.
 *
 * The browser line admits in two stages, `resolveTenant` then `acquire`, so its own checks (join
 * token, SDP) run between them and a stranger's bad offer never costs a slot.
 */
import type { CapacityDenyReason, CapacityLimits, AcquireResult } from '../capacity/types';
import { errorMessage } from '../errors';
import type { Logger } from '../logger';
import type { TenantConfig } from '../tenants/tenant-config';
import type { TenantIdResolution, TenantResolution } from '../tenants/tenant-resolver';

/** Who the call is for: the dialled number (phone) or the tenant named by the page (browser). */
export type CallSubject = { did: string | undefined } | { tenantId: string };

/** What TenantResolver offers; tests may hand in their own. */
export interface TenantDirectory {
  resolve(did: string | undefined): Promise<TenantResolution>;
  byTenantId(tenantId: string): Promise<TenantIdResolution>;
}

/** A line's capacity scripts (Capacity, in the line's key space). */
export interface CapacitySlots {
  acquire(callId: string, tenantId: string, limits: CapacityLimits, leaseMs: number): Promise<AcquireResult>;
  release(callId: string, tenantId: string): Promise<boolean>;
  cancel(callId: string, tenantId: string): Promise<boolean>;
}

/** The leases this instance keeps alive (LeaseKeeper). */
export interface LeaseRegistry {
  add(callId: string, tenantId: string): void;
  remove(callId: string): boolean;
  readonly size: number;
}

export interface AdmissionMetrics {
  /** A capacity refusal, or the capacity store failing ('capacity_error'). */
  denied(reason: CapacityDenyReason | 'capacity_error'): void;
  /** Leases this instance holds on the line, after every change. */
  active(leases: number): void;
}

export interface CallAdmissionDeps {
  /** Names the line in logs ('phone', 'webrtc'). */
  line: string;
  tenants: TenantDirectory;
  /** This line's caps for the tenant (phone: override keys > tenant caps > env; browser: tenant webrtc block > env). */
  limitsFor(tenantId: string, config: TenantConfig): Promise<CapacityLimits> | CapacityLimits;
  capacity: CapacitySlots;
  leases: LeaseRegistry;
  leaseMs: number;
  metrics: AdmissionMetrics;
  logger: Logger;
}

export interface ResolvedTenant {
  readonly tenantId: string;
  readonly config: TenantConfig;
  /** E.164, for calls that came in by number. */
  readonly did?: string;
}

/** Frees a slot once, whatever is called and however often; never rejects (a failure is logged, the lease then expires). */
export interface SlotHandle {
  readonly callId: string;
  readonly tenantId: string;
  /** The call ran: frees the slot (its admission stays counted in the rate window). */
  release(): Promise<void>;
  /** The call never started: frees the slot and takes back its admission. */
  cancel(): Promise<void>;
}

export interface AdmittedCall extends SlotHandle, ResolvedTenant {
  readonly limits: CapacityLimits;
  /** The call already held this slot (a re-run of its admission): nothing new was counted. */
  readonly alreadyHeld: boolean;
}

export type TenantRefusal =
  | { kind: 'not_configured'; did?: string; tenantId?: string }
  | { kind: 'invalid_config'; did?: string; tenantId: string; problems: string[] };

export type StoreError = { kind: 'store_error'; stage: 'tenant' | 'capacity'; tenantId?: string; error: unknown };

export type TenantOutcome = { kind: 'resolved'; tenant: ResolvedTenant } | TenantRefusal | StoreError;

export type SlotOutcome =
  | { kind: 'admitted'; tenantId: string; call: AdmittedCall }
  | { kind: 'at_capacity'; tenantId: string; reason: CapacityDenyReason; limits: CapacityLimits }
  | StoreError;

export type AdmissionOutcome = TenantRefusal | SlotOutcome;

export class CallAdmission {
  constructor(private readonly d: CallAdmissionDeps) {}

  /** Both stages: the phone line's way in. */
  async admit(callId: string, subject: CallSubject): Promise<AdmissionOutcome> {
    const t = await this.resolveTenant(subject, callId);
    return t.kind === 'resolved' ? this.acquire(callId, t.tenant) : t;
  }

  async resolveTenant(subject: CallSubject, callId?: string): Promise<TenantOutcome> {
    try {
      if ('tenantId' in subject) {
        const r = await this.d.tenants.byTenantId(subject.tenantId);
        return r.kind === 'ok' ? { kind: 'resolved', tenant: { tenantId: r.tenantId, config: r.config } } : r;
      }
      const r = await this.d.tenants.resolve(subject.did);
      return r.kind === 'ok' ? { kind: 'resolved', tenant: { tenantId: r.tenantId, config: r.config, did: r.did } } : r;
    } catch (error) {
      this.d.logger.error({ callControlId: callId, ...subject, line: this.d.line, err: errorMessage(error) }, 'tenant lookup failed');
      return { kind: 'store_error', stage: 'tenant', tenantId: 'tenantId' in subject ? subject.tenantId : undefined, error };
    }
  }

  /** The slot for a resolved tenant, under this line's caps; the lease is then kept alive here. */
  async acquire(callId: string, tenant: ResolvedTenant): Promise<SlotOutcome> {
    const { tenantId } = tenant;
    let limits: CapacityLimits | undefined;
    let result: AcquireResult;
    try {
      limits = await this.d.limitsFor(tenantId, tenant.config);
      result = await this.d.capacity.acquire(callId, tenantId, limits, this.d.leaseMs);
    } catch (error) {
      this.d.metrics.denied('capacity_error');
      this.d.logger.error({ callControlId: callId, tenantId, line: this.d.line, err: errorMessage(error) }, 'capacity check failed');
      return { kind: 'store_error', stage: 'capacity', tenantId, error };
    }
    if (!result.ok) {
      this.d.metrics.denied(result.reason);
      this.d.logger.info({ callControlId: callId, tenantId, reason: result.reason, limits, line: this.d.line }, 'call refused: capacity');
      return { kind: 'at_capacity', tenantId, reason: result.reason, limits };
    }
    this.d.leases.add(callId, tenantId);
    this.d.metrics.active(this.d.leases.size);
    return { kind: 'admitted', tenantId, call: { ...tenant, ...this.held(callId, tenantId), limits, alreadyHeld: result.alreadyHeld } };
  }

  /**
   * The handle of a slot acquired earlier, possibly by another instance or process (a phone call's
   * hangup may be processed anywhere): the scripts are idempotent, and this instance stops
   * refreshing the lease if it held it.
   */
  held(callId: string, tenantId: string): SlotHandle {
    let settled: Promise<void> | undefined;
    const settle = (op: 'release' | 'cancel'): Promise<void> => {
      settled ??= this.settle(callId, tenantId, op);
      return settled;
    };
    return { callId, tenantId, release: () => settle('release'), cancel: () => settle('cancel') };
  }

  private async settle(callId: string, tenantId: string, op: 'release' | 'cancel'): Promise<void> {
    // Forgotten first, so a failing script cannot leave a lease refreshed forever.
    this.d.leases.remove(callId);
    this.d.metrics.active(this.d.leases.size);
    try {
      await this.d.capacity[op](callId, tenantId);
    } catch (err) {
      this.d.logger.error({ callControlId: callId, tenantId, op, line: this.d.line, err: errorMessage(err) }, 'capacity release failed; the lease will expire');
    }
  }
}
