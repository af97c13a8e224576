/**
 * The browser calls of this instance. An offer is admitted in an order that lets nothing a
 * stranger sends cost a slot: the tenant (the admission's tenant stage: lib/calls/admission.ts)
 * and its join token (browser-admission.ts, one uniform refusal), then the werift peer (which
 * parses the SDP; a bad offer is refused here), and only then the browser-call slot (the
 * admission's capacity stage, in the browser line's own key space, never the phone line's). The
 * slot is released when the call ends, however it ends; an offer that fails after admission gives
 * back its slot and its place in the calls-per-minute window. Errors are AppErrors; the HTTP
 * layer maps them (api/error-handler.ts).
 */
import { randomUUID } from 'node:crypto';
import type { AdmittedCall, CallAdmission, ResolvedTenant } from '../../lib/calls/admission';
import { AppError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import { callRefused, checkBrowserCaller, tenantRefusal, type BrowserCallRefused } from './browser-admission';
import type { Peer, PeerFactory } from './peer';
import { sharedPlayoutScheduler } from '../playout/pacer';
import type { LiveCall, LiveCallState } from '../live-call';
import { browserCall, type BrowserCallParts } from './browser-call';
import type { WebrtcLibraryLoader, Werift } from './werift-loader';
import { WebrtcTransport } from './webrtc-transport';

export interface WebrtcCallsDeps {
  loadLibrary: WebrtcLibraryLoader;
  peerFactory(lib: Werift): PeerFactory;
  /** The browser line's admission: tenant by id, browser caps and key space, its own lease keeper. */
  admission: Pick<CallAdmission, 'resolveTenant' | 'acquire'>;
  /** WEBRTC_REQUIRE_JOIN_TOKEN: for tenants whose config does not say. */
  requireJoinToken: boolean;
  maxDurationMs: number;
  media: BrowserCallParts;
  metrics: Pick<Metrics, 'calls' | 'webrtcRefusals'>;
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
  /**
   * The browser calls up on this instance, by session id: their own registry beside the phone
   * calls' (LiveCalls), since a browser call has no media sockets or call-bus messages to route and
   * its slot is released here.
   */
  private readonly sessions = new Map<string, LiveCall<WebrtcTransport>>();
  private readonly releases = new Set<Promise<void>>();
  private closing = false;

  constructor(private readonly d: WebrtcCallsDeps) {}

  get size(): number {
    return this.sessions.size;
  }

  phaseOf(sessionId: string): string | undefined {
    return this.sessions.get(sessionId)?.stream?.transport.phase;
  }

  async offer(req: OfferRequest): Promise<OfferAnswer> {
    if (this.closing) throw shuttingDown();
    // A server-wide state: answered the same for every tenant, so it comes before the tenant.
    const lib = await this.d.loadLibrary();
    const tenant = await this.admitTenant(req);
    let peer: Peer;
    try {
      peer = await this.d.peerFactory(lib)(req.offerSdp);
    } catch (e) {
      this.refused(e instanceof AppError && e.code === 'invalid_offer' ? 'invalid_offer' : 'peer_error');
      throw e;
    }
    const sessionId = `webrtc-${randomUUID()}`;
    let call: AdmittedCall;
    try {
      if (this.closing) throw shuttingDown();
      call = await this.acquire(sessionId, tenant);
    } catch (e) {
      peer.close();
      throw e;
    }
    try {
      if (this.closing) throw shuttingDown();
      this.start(call, peer);
    } catch (e) {
      peer.close();
      this.settle(call.cancel());
      throw e;
    }
    this.d.metrics.calls.inc({ outcome: 'accepted' });
    this.d.logger.info({ callControlId: sessionId, tenantId: call.tenantId, transport: 'webrtc' }, 'webrtc call accepted');
    return { sessionId, answerSdp: peer.answerSdp };
  }

  /** Hangup from the page; false when this instance holds no such session. */
  hangup(sessionId: string): boolean {
    const s = this.sessions.get(sessionId);
    if (!s) return false;
    s.end({ code: 1000, reason: 'caller_hangup' });
    return true;
  }

  /** Ends every call and waits until their slots are released. */
  async closeAll(): Promise<void> {
    this.closing = true;
    for (const s of [...this.sessions.values()]) s.end({ code: 1001, reason: 'server_shutdown' });
    await Promise.all([...this.releases]);
  }

  private async admitTenant(req: OfferRequest): Promise<ResolvedTenant> {
    const t = await this.d.admission.resolveTenant({ tenantId: req.tenantId });
    if (t.kind === 'store_error') {
      // As for phone calls: a Redis outage is "try again later", never "not configured" (the admission logged it).
      this.refused('capacity_error');
      throw cannotAdmit(t.error);
    }
    if (t.kind !== 'resolved') return this.refuse(req.tenantId, tenantRefusal(t));
    const check = checkBrowserCaller({ tenantId: req.tenantId, tenant: t.tenant.config, joinToken: req.joinToken, origin: req.origin, requireJoinToken: this.d.requireJoinToken, now: (this.d.now ?? Date.now)() });
    return check.ok ? t.tenant : this.refuse(req.tenantId, check);
  }

  private refuse(tenantId: string, r: BrowserCallRefused): never {
    this.refused(r.reason);
    // Only the log tells why: the caller gets the same answer for every tenant-side reason.
    this.d.logger.info({ tenantId, reason: r.reason, detail: r.detail, transport: 'webrtc' }, 'webrtc call refused');
    throw callRefused();
  }

  /** The browser-call slot; refusals and store failures are counted and logged by the admission. */
  private async acquire(sessionId: string, tenant: ResolvedTenant): Promise<AdmittedCall> {
    const r = await this.d.admission.acquire(sessionId, tenant);
    if (r.kind === 'admitted') return r.call;
    if (r.kind === 'store_error') throw cannotAdmit(r.error);
    throw new AppError('at_capacity', 'We are currently at capacity. Please try again later.', { status: 503, retryable: true, details: { reason: r.reason } });
  }

  private refused(reason: string): void {
    this.d.metrics.webrtcRefusals.inc({ reason });
  }

  /** The transport first (its audio out is what the playout writes), then the live call that opens it. */
  private start(call: AdmittedCall, peer: Peer): void {
    const { callId: sessionId, tenantId, config: tenant } = call;
    const clock = this.d.media.clock ?? sharedPlayoutScheduler();
    const transport = new WebrtcTransport({ id: sessionId, tenantId, peer, maxDurationMs: this.d.maxDurationMs, playoutNow: () => clock.now(), logger: this.d.logger });
    const live = browserCall(this.d.media, { sessionId, tenantId, tenant }, transport, clock);
    live.on('stateChange', (next: LiveCallState) => {
      if (next.kind !== 'ended') return;
      this.sessions.delete(sessionId);
      // However the call ended: the slot goes back (a failed release is logged; the lease then expires).
      this.settle(call.release());
    });
    this.sessions.set(sessionId, live);
  }

  /** closeAll waits for slots being given back. */
  private settle(p: Promise<void>): void {
    const tracked = p.finally(() => this.releases.delete(tracked));
    this.releases.add(tracked);
  }
}
