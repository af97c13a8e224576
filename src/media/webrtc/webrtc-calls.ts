/**
 * The browser calls of this instance. An offer is admitted in an order that lets nothing a
 * stranger sends cost a slot: the tenant (the admission's tenant stage: lib/calls/admission.ts)
 * and its join token (browser-admission.ts, one uniform refusal), then the werift peer (which
 * parses the SDP; a bad offer is refused here), and only then the browser-call slot (the
 * admission's capacity stage, in the browser line's own key space, never the phone line's). The
 * slot is released when the call ends, however it ends; an offer that fails after admission gives
 * back its slot and its place in the calls-per-minute window. Errors are AppErrors; the HTTP
 * layer maps them (api/error-handler.ts).
 *
 * A browser call goes through the same lifecycle as a phone call (lib/calls/call-lifecycle.ts
 * `transition`), held here in memory instead of in the Redis call record: admitted → answering
 * (the offer's SDP answer is its `answer`) → active → ended, where the `release_slot` command gives
 * the slot back once, however the call ended.
 */
import { randomUUID } from 'node:crypto';
import type { AdmittedCall, CallAdmission, ResolvedTenant } from '../../lib/calls/admission';
import { transition, type CallCommand, type CallEvent, type CallNotification, type CallState } from '../../lib/calls/call-lifecycle';
import type { CallPhase } from '../../lib/calls/call-store';
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

/** One browser call: its live call, its slot and where it is in the call lifecycle. */
interface BrowserLine {
  live: LiveCall<WebrtcTransport>;
  slot: AdmittedCall;
  state: CallState | undefined;
}

export class WebrtcCalls {
  /**
   * The browser calls up on this instance, by session id: their own registry beside the phone
   * calls' (LiveCalls), since a browser call has no media sockets or call-bus messages to route, and
   * cannot move to another instance.
   */
  private readonly sessions = new Map<string, BrowserLine>();
  private readonly releases = new Set<Promise<void>>();
  private closing = false;

  constructor(private readonly d: WebrtcCallsDeps) {}

  get size(): number {
    return this.sessions.size;
  }

  phaseOf(sessionId: string): string | undefined {
    return this.sessions.get(sessionId)?.live.stream?.transport.phase;
  }

  /** Where a browser call is in the call lifecycle (undefined once it has ended and left). */
  lifecyclePhaseOf(sessionId: string): CallPhase | undefined {
    return this.sessions.get(sessionId)?.state?.phase;
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
    return { sessionId, answerSdp: peer.answerSdp };
  }

  /** Hangup from the page; false when this instance holds no such session. */
  hangup(sessionId: string): boolean {
    const line = this.sessions.get(sessionId);
    if (!line) return false;
    line.live.end({ code: 1000, reason: 'caller_hangup' });
    return true;
  }

  /** Ends every call and waits until their slots are released. */
  async closeAll(): Promise<void> {
    this.closing = true;
    for (const line of [...this.sessions.values()]) line.live.end({ code: 1001, reason: 'server_shutdown' });
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
    const check = checkBrowserCaller({ tenantId: req.tenantId, tenant: t.tenant.config, joinToken: req.joinToken, origin: req.origin, requireJoinToken: this.d.requireJoinToken, now: this.now() });
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
    const line: BrowserLine = { live, slot: call, state: undefined };
    live.on('stateChange', (next: LiveCallState) => {
      if (next.kind !== 'ended') return;
      this.sessions.delete(sessionId);
      // Ended before its lifecycle began (inside start()): nothing to transition, the slot still goes back.
      if (line.state === undefined) this.settle(line.slot.release());
      else this.apply(line, { type: 'hangup', cause: transport.endReason, at: this.now() });
    });
    this.sessions.set(sessionId, line);
    this.apply(line, { type: 'initiated', call: { callControlId: sessionId }, admission: { kind: 'admitted', tenantId }, at: this.now() });
    // The offer's SDP answer is the browser call's `answer`: it is up once the HTTP reply goes out.
    this.apply(line, { type: 'answered' });
  }

  private apply(line: BrowserLine, event: CallEvent): void {
    const step = transition(line.state, event);
    if (step.state === line.state) return; // not an event for this phase (e.g. a second end)
    line.state = step.state;
    for (const n of step.notifications) this.notify(line, n);
    for (const c of step.commands) this.run(line, c);
  }

  /** A lifecycle command as a browser call carries it out. */
  private run(line: BrowserLine, c: CallCommand): void {
    switch (c.type) {
      case 'release_slot':
        // However the call ended: the slot goes back (a failed release is logged; the lease then expires).
        this.settle(line.slot.release());
        return;
      case 'hangup':
        line.live.end({ code: 1000, reason: 'hangup' });
        return;
      case 'answer': // the offer's SDP answer, already made
      case 'schedule_max_duration': // the session's own timer ends the call at maxDurationMs (webrtc-session.ts)
      case 'cancel_max_duration': // ... and is cancelled when the session ends
      case 'cancel_fallback_hangup': // no prompt job: a browser call is never refused once it is a call
      case 'say':
      case 'tell_session':
        return;
    }
  }

  private notify(line: BrowserLine, n: CallNotification): void {
    const callControlId = line.slot.callId;
    if (n.type === 'accepted') {
      this.d.metrics.calls.inc({ outcome: 'accepted' });
      this.d.logger.info({ callControlId, tenantId: n.tenantId, transport: 'webrtc' }, 'webrtc call accepted');
    } else if (n.type === 'ended') {
      this.d.logger.info({ callControlId, tenantId: n.tenantId, durationMs: n.durationMs, transport: 'webrtc' }, 'call ended');
    }
  }

  private now(): number {
    return (this.d.now ?? Date.now)();
  }

  /** closeAll waits for slots being given back. */
  private settle(p: Promise<void>): void {
    const tracked = p.finally(() => this.releases.delete(tracked));
    this.releases.add(tracked);
  }
}
