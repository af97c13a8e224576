/**
 * The browser calls of this instance. An offer is admitted in an order that lets nothing a
 * stranger sends cost a slot: the tenant and its join token (browser-admission.ts, one uniform
 * refusal), then the werift peer (which parses the SDP; a bad offer is refused here), and only
 * then the browser-call caps (the capacity scripts in their own key space, never the phone
 * line's). The slot is released when the call ends, however it ends; an offer that fails after
 * admission gives back its slot and its place in the calls-per-minute window. Errors are
 * AppErrors; the HTTP layer maps them (api/error-handler.ts).
 */
import { randomUUID } from 'node:crypto';
import type { CapacityLimits, AcquireResult } from '../../lib/capacity/types';
import { AppError, errorMessage } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import type { TenantConfig } from '../../lib/tenants/tenant-config';
import { admitBrowserCall, callRefused, type BrowserCallDefaults, type TenantLookup } from './browser-admission';
import type { Peer, PeerFactory } from './peer';
import { SessionMedia, type SessionMediaParts } from './session-media';
import type { WebrtcLibraryLoader, Werift } from './werift-loader';
import { WebrtcSession } from './webrtc-session';

export type { TenantLookup } from './browser-admission';

export interface WebrtcCallsDeps {
  loadLibrary: WebrtcLibraryLoader;
  peerFactory(lib: Werift): PeerFactory;
  /** `tenantcfg:<id>`; throws when Redis cannot answer. */
  tenantConfig(tenantId: string): Promise<TenantLookup>;
  /** Browser-call caps and token policy where the tenant config does not set them. */
  defaults: BrowserCallDefaults;
  /** The browser-call key space (never the phone line's). */
  capacity: {
    acquire(callId: string, tenantId: string, limits: CapacityLimits, leaseMs: number): Promise<AcquireResult>;
    release(callId: string, tenantId: string): Promise<boolean>;
    cancel(callId: string, tenantId: string): Promise<boolean>;
  };
  /** Keeps the browser-call leases alive while the calls last. */
  leases: { add(callId: string, tenantId: string): void; remove(callId: string): boolean; readonly size: number };
  leaseMs: number;
  maxDurationMs: number;
  media: SessionMediaParts;
  metrics: Pick<Metrics, 'webrtcActiveCalls' | 'calls' | 'webrtcRefusals'>;
  logger: Logger;
  /** Unix ms (join-token expiry). */
  now?: () => number;
}

export interface OfferRequest {
  tenantId: string;
  /** Already through checkOfferSdp (api/webrtc.ts). */
  offerSdp: string;
  joinToken?: string;
  /** The request's Origin header (a join token may be bound to it). */
  origin?: string;
}

export interface OfferAnswer {
  sessionId: string;
  answerSdp: string;
}

const shuttingDown = () => new AppError('shutting_down', 'the server is shutting down', { status: 503, retryable: true });
const cannotAdmit = (cause: unknown) => new AppError('at_capacity', 'calls cannot be admitted right now; try again later', { status: 503, retryable: true, cause });

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

  async offer(req: OfferRequest): Promise<OfferAnswer> {
    if (this.closing) throw shuttingDown();
    // A server-wide state: answered the same for every tenant, so it comes before the tenant.
    const lib = await this.d.loadLibrary();
    const { tenantId } = req;
    const { tenant, limits } = await this.admitTenant(req);
    let peer: Peer;
    try {
      peer = await this.d.peerFactory(lib)(req.offerSdp);
    } catch (e) {
      this.refused(e instanceof AppError && e.code === 'invalid_offer' ? 'invalid_offer' : 'peer_error');
      throw e;
    }
    const sessionId = `webrtc-${randomUUID()}`;
    try {
      if (this.closing) throw shuttingDown();
      await this.acquire(sessionId, tenantId, limits);
    } catch (e) {
      peer.close();
      throw e;
    }
    try {
      if (this.closing) throw shuttingDown();
      this.start(sessionId, tenantId, tenant, peer);
    } catch (e) {
      peer.close();
      this.cancel(sessionId, tenantId);
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

  private async admitTenant(req: OfferRequest): Promise<{ tenant: TenantConfig; limits: CapacityLimits }> {
    let lookup: TenantLookup;
    try {
      lookup = await this.d.tenantConfig(req.tenantId);
    } catch (e) {
      // As for phone calls: a Redis outage is "try again later", never "not configured".
      this.d.logger.error({ tenantId: req.tenantId, err: errorMessage(e) }, 'webrtc: tenant lookup failed');
      this.refused('capacity_error');
      throw cannotAdmit(e);
    }
    const r = admitBrowserCall({ tenantId: req.tenantId, lookup, joinToken: req.joinToken, origin: req.origin, defaults: this.d.defaults, now: (this.d.now ?? Date.now)() });
    if (r.ok) return r;
    this.refused(r.reason);
    // Only the log tells why: the caller gets the same answer for every tenant-side reason.
    this.d.logger.info({ tenantId: req.tenantId, reason: r.reason, detail: r.detail, transport: 'webrtc' }, 'webrtc call refused');
    throw callRefused();
  }

  private async acquire(sessionId: string, tenantId: string, limits: CapacityLimits): Promise<void> {
    let result: AcquireResult;
    try {
      result = await this.d.capacity.acquire(sessionId, tenantId, limits, this.d.leaseMs);
    } catch (e) {
      this.refused('capacity_error');
      this.d.logger.error({ tenantId, err: errorMessage(e) }, 'webrtc: capacity check failed');
      throw cannotAdmit(e);
    }
    if (!result.ok) {
      this.refused(result.reason);
      this.d.logger.info({ tenantId, reason: result.reason, limits, transport: 'webrtc' }, 'webrtc call refused: capacity');
      throw new AppError('at_capacity', 'We are currently at capacity. Please try again later.', { status: 503, retryable: true, details: { reason: result.reason } });
    }
  }

  private refused(reason: string): void {
    this.d.metrics.webrtcRefusals.inc({ reason });
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
    this.d.metrics.webrtcActiveCalls.set(this.d.leases.size);
  }

  /** Frees the slot of a call that ran (idempotent in Redis); failures are logged, and the lease then simply expires. */
  private release(sessionId: string, tenantId: string): void {
    this.settle(sessionId, tenantId, 'release');
  }

  /** Undoes the admission of a call that never started: slot and per-minute budget back. */
  private cancel(sessionId: string, tenantId: string): void {
    this.settle(sessionId, tenantId, 'cancel');
  }

  private settle(sessionId: string, tenantId: string, op: 'release' | 'cancel'): void {
    this.d.leases.remove(sessionId);
    this.d.metrics.webrtcActiveCalls.set(this.d.leases.size);
    const p = this.d.capacity[op](sessionId, tenantId)
      .then(() => undefined)
      .catch((e: unknown) => this.d.logger.error({ callControlId: sessionId, tenantId, op, err: errorMessage(e) }, 'webrtc: capacity release failed; the lease will expire'))
      .finally(() => this.releases.delete(p));
    this.releases.add(p);
  }
}
