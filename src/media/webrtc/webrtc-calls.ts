/**
 * The browser calls of this instance: admits an SDP offer exactly as a phone call is admitted
 * (tenant config, then the capacity caps through the same Lua scripts), answers it, and releases
 * the slot when the call ends, however it ends. Errors are AppErrors with the seed's codes; the
 * HTTP layer maps them (api/error-handler.ts).
 */
import { randomUUID } from 'node:crypto';
import type { CapacityLimits, AcquireResult } from '../../lib/capacity/types';
import { AppError, errorMessage } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import type { TenantConfig } from '../../lib/tenants/tenant-config';
import type { Peer, PeerFactory } from './peer';
import { SessionMedia, type SessionMediaParts } from './session-media';
import type { Werift, WebrtcLibraryLoader } from './werift-loader';
import { WebrtcSession } from './webrtc-session';

export type TenantLookup = { kind: 'ok'; config: TenantConfig } | { kind: 'missing' } | { kind: 'invalid'; problems: string[] };

export interface WebrtcCallsDeps {
  loadLibrary: WebrtcLibraryLoader;
  peerFactory(lib: Werift): PeerFactory;
  /** `tenantcfg:<id>`; throws when Redis cannot answer. */
  tenantConfig(tenantId: string): Promise<TenantLookup>;
  /** Caps for this tenant (override keys > tenant config > env defaults, as for phone calls). */
  limitsFor(tenantId: string, tenant: TenantConfig): Promise<CapacityLimits>;
  capacity: {
    acquire(callId: string, tenantId: string, limits: CapacityLimits, leaseMs: number): Promise<AcquireResult>;
    release(callId: string, tenantId: string): Promise<boolean>;
  };
  /** Keeps the lease alive while the call lasts (shared with phone calls). */
  leases: { add(callId: string, tenantId: string): void; remove(callId: string): boolean; readonly size: number };
  leaseMs: number;
  maxDurationMs: number;
  media: SessionMediaParts;
  metrics: Pick<Metrics, 'activeCalls' | 'calls' | 'capDenials'>;
  logger: Logger;
}

export interface OfferAnswer {
  sessionId: string;
  answerSdp: string;
}

const err = (code: string, message: string, status: number) => new AppError(code, message, { status });

export class WebrtcCalls {
  private readonly sessions = new Map<string, WebrtcSession>();
  private readonly releases = new Set<Promise<void>>();
  private closing = false;

  constructor(private readonly d: WebrtcCallsDeps) {}

  get size(): number {
    return this.sessions.size;
  }

  phaseOf(sessionId: string): string | undefined {
    return this.sessions.get(sessionId)?.phase;
  }

  async offer(tenantId: string, offerSdp: string): Promise<OfferAnswer> {
    if (this.closing) throw new AppError('shutting_down', 'the server is shutting down', { status: 503, retryable: true });
    const lib = await this.d.loadLibrary();
    const tenant = await this.tenant(tenantId);
    const sessionId = `webrtc-${randomUUID()}`;
    await this.admit(sessionId, tenantId, tenant);
    let peer: Peer | undefined;
    try {
      peer = await this.d.peerFactory(lib)(offerSdp);
      if (this.closing) throw new AppError('shutting_down', 'the server is shutting down', { status: 503, retryable: true });
      this.start(sessionId, tenantId, tenant, peer);
    } catch (e) {
      peer?.close();
      this.release(sessionId, tenantId);
      throw e;
    }
    this.d.metrics.calls.inc({ outcome: 'accepted' });
    this.d.logger.info({ callControlId: sessionId, tenantId, transport: 'webrtc' }, 'webrtc call accepted');
    return { sessionId, answerSdp: peer.answerSdp };
  }

  /** Hangup from the page; false when this instance holds no such session. */
  hangup(sessionId: string): boolean {
    const s = this.sessions.get(sessionId);
    if (!s) return false;
    s.end('caller_hangup');
    return true;
  }

  /** Ends every call and waits until their slots are released. */
  async closeAll(): Promise<void> {
    this.closing = true;
    for (const s of [...this.sessions.values()]) s.end('server_shutdown');
    await Promise.all([...this.releases]);
  }

  private async tenant(tenantId: string): Promise<TenantConfig> {
    let r: TenantLookup;
    try {
      r = await this.d.tenantConfig(tenantId);
    } catch (e) {
      // As for phone calls: a Redis outage is "try again later", never "not configured".
      this.d.logger.error({ tenantId, err: errorMessage(e) }, 'webrtc: tenant lookup failed');
      this.d.metrics.calls.inc({ outcome: 'capacity_error' });
      throw new AppError('at_capacity', 'calls cannot be admitted right now; try again later', { status: 503, retryable: true, cause: e });
    }
    if (r.kind === 'ok') return r.config;
    this.d.metrics.calls.inc({ outcome: r.kind === 'missing' ? 'not_configured' : 'invalid_config' });
    if (r.kind === 'invalid') this.d.logger.warn({ tenantId, problems: r.problems }, 'webrtc: tenant config invalid');
    throw err('tenant_config_missing', r.kind === 'missing' ? `no tenant config for tenant "${tenantId}"` : `the config of tenant "${tenantId}" is invalid`, 404);
  }

  private async admit(sessionId: string, tenantId: string, tenant: TenantConfig): Promise<void> {
    let result: AcquireResult;
    try {
      const limits = await this.d.limitsFor(tenantId, tenant);
      result = await this.d.capacity.acquire(sessionId, tenantId, limits, this.d.leaseMs);
    } catch (e) {
      this.d.metrics.capDenials.inc({ reason: 'capacity_error' });
      this.d.metrics.calls.inc({ outcome: 'capacity_error' });
      this.d.logger.error({ tenantId, err: errorMessage(e) }, 'webrtc: capacity check failed');
      throw new AppError('at_capacity', 'calls cannot be admitted right now; try again later', { status: 503, retryable: true, cause: e });
    }
    if (!result.ok) {
      this.d.metrics.capDenials.inc({ reason: result.reason });
      this.d.metrics.calls.inc({ outcome: 'at_capacity' });
      this.d.logger.info({ tenantId, reason: result.reason, transport: 'webrtc' }, 'webrtc call refused: capacity');
      throw new AppError('at_capacity', 'We are currently at capacity. Please try again later.', { status: 503, retryable: true, details: { reason: result.reason } });
    }
  }

  private start(sessionId: string, tenantId: string, tenant: TenantConfig, peer: Peer): void {
    let session: WebrtcSession | undefined;
    const media = new SessionMedia(this.d.media, { sessionId, tenantId, tenant }, peer, {
      line: (role, text) => session?.notify({ type: 'transcript', role, text }),
      status: (status) => session?.notify({ type: 'status', status }),
      hangup: () => session?.end('agent_hangup'),
    });
    try {
      session = new WebrtcSession({
        id: sessionId,
        tenantId,
        peer,
        media,
        maxDurationMs: this.d.maxDurationMs,
        logger: this.d.logger,
        onEnded: () => {
          this.sessions.delete(sessionId);
          this.release(sessionId, tenantId);
        },
      });
    } catch (e) {
      media.close();
      throw e;
    }
    this.sessions.set(sessionId, session);
    this.d.leases.add(sessionId, tenantId);
    this.d.metrics.activeCalls.set(this.d.leases.size);
  }

  /** Frees the slot (idempotent in Redis); failures are logged, and the lease then simply expires. */
  private release(sessionId: string, tenantId: string): void {
    this.d.leases.remove(sessionId);
    this.d.metrics.activeCalls.set(this.d.leases.size);
    const p = this.d.capacity
      .release(sessionId, tenantId)
      .then(() => undefined)
      .catch((e: unknown) => this.d.logger.error({ callControlId: sessionId, tenantId, err: errorMessage(e) }, 'webrtc: capacity release failed; the lease will expire'))
      .finally(() => this.releases.delete(p));
    this.releases.add(p);
  }
}
