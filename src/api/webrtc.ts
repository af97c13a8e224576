/**
 * WebRTC HD routes (TRANSPORT_MODE=webrtc_hd), on the main port:
 *   GET  /hd-call?tenant_id=…      the browser call page (+ /hd-call/hd-call.js, /hd-call/hd-call.css)
 *   POST /v1/webrtc/offer          {offer: {type:"offer", sdp}, tenant_id, join_token?} → {session_id, answer}
 *   POST /v1/webrtc/hangup         {session_id} → {ended: true}
 * Errors are `{error, message}` (api/error-handler.ts). With TRANSPORT_MODE=pstn every route
 * answers 404 `webrtc_disabled`, saying how to turn it on.
 *
 * The offer endpoint needs no credential, so it checks in the order that keeps strangers cheap
 * and tenants unenumerable: Origin (403 origin_not_allowed), per-client-IP rate (429
 * rate_limited + Retry-After), request and SDP shape (400, whatever the tenant), tenant and join
 * token (403 call_refused, one answer for every reason), then the browser-call caps (503).
 */
import express, { Router, type Request, type RequestHandler } from 'express';
import { AppError, badRequest, errorMessage } from '../lib/errors';
import type { Metrics } from '../lib/metrics';
import { clientAddressKey } from '../lib/rate-limit/client-address';
import type { RateLimitResult } from '../lib/rate-limit/rate-limiter';
import { checkOfferSdp } from '../media/webrtc/sdp-offer';
import type { OfferAnswer, OfferRequest } from '../media/webrtc/webrtc-calls';
import { hdCallAssets, HD_CALL_ASSETS, type HdCallAssetPath } from './hd-call-page';
import { OriginPolicy } from './webrtc-origin';

export interface WebrtcService {
  offer(req: OfferRequest): Promise<OfferAnswer>;
  hangup(sessionId: string): boolean;
}

export interface WebrtcRouterDeps {
  /** undefined: TRANSPORT_MODE=pstn. */
  calls: WebrtcService | undefined;
  allowedOrigins: readonly string[];
  /** Offers per client address (WEBRTC_OFFERS_PER_MIN_PER_IP); the runtime always sets it, HTTP-only tests may not. */
  offerRate?: { hit(subject: string): Promise<RateLimitResult> };
  metrics?: Pick<Metrics, 'webrtcRefusals'>;
  /** Directory of the page's files (tests). */
  publicDir?: string;
}

/** An offer body is the SDP (≤ 32 kB) plus a little JSON; escaping can double the SDP's size. */
const OFFER_BODY_LIMIT = '80kb';
const HANGUP_BODY_LIMIT = '1kb';
/** Tenant ids are Redis key parts (`tenantcfg:<id>`): printable, bounded. */
const TENANT_ID = /^[A-Za-z0-9._:@-]{1,128}$/;
const SESSION_ID = /^webrtc-[0-9a-f-]{36}$/;
/** A join token is ~90 characters (lib/webrtc/join-token.ts); anything much longer is not one. */
const MAX_JOIN_TOKEN_CHARS = 256;

export function webrtcRouter(d: WebrtcRouterDeps): Router {
  const router = Router();
  const paths = ['/v1/webrtc/offer', '/v1/webrtc/hangup', ...Object.keys(HD_CALL_ASSETS)];
  const calls = d.calls;
  if (!calls) {
    router.all(paths, (_req, _res, next) =>
      next(new AppError('webrtc_disabled', 'WebRTC HD is off on this server: set TRANSPORT_MODE=webrtc_hd to enable /hd-call and /v1/webrtc/*', { status: 404 })),
    );
    return router;
  }
  const origins = new OriginPolicy(d.allowedOrigins);
  const api = origins.middleware({ requireOrigin: true, methods: 'POST, OPTIONS' });
  const page = origins.middleware({ requireOrigin: false, methods: 'GET, OPTIONS' });
  const json = (limit: string) => express.json({ limit, type: () => true });
  const asset = hdCallAssets({ frameAncestors: origins.origins, dir: d.publicDir });

  for (const p of Object.keys(HD_CALL_ASSETS) as HdCallAssetPath[]) router.get(p, page, asset(p));
  router.options(['/v1/webrtc/offer', '/v1/webrtc/hangup'], api);

  const refused = (reason: string) => d.metrics?.webrtcRefusals.inc({ reason });
  const rateLimit: RequestHandler = d.offerRate ? offerRateLimit(d.offerRate, refused) : (_req, _res, next) => next();

  router.post('/v1/webrtc/offer', api, rateLimit, requireJson, json(OFFER_BODY_LIMIT), async (req, res) => {
    const body = (req.body ?? {}) as { tenant_id?: unknown; offer?: unknown; join_token?: unknown };
    const tenantId = typeof body.tenant_id === 'string' ? body.tenant_id.trim() : '';
    if (!TENANT_ID.test(tenantId)) {
      refused('invalid_offer');
      throw badRequest('tenant_id_required', 'tenant_id is required: 1–128 characters of A–Z a–z 0–9 . _ : @ -');
    }
    let offerSdp: string;
    try {
      offerSdp = sdpOf(body.offer);
    } catch (e) {
      refused('invalid_offer');
      throw e;
    }
    // A token of the wrong type or size is simply not a valid token: refused later like any bad one.
    const token = body.join_token;
    const joinToken = token === undefined || token === null ? undefined : typeof token === 'string' && token.length <= MAX_JOIN_TOKEN_CHARS ? token.trim() : 'invalid';
    const origin = typeof req.headers.origin === 'string' ? req.headers.origin : undefined;
    const r = await calls.offer({ tenantId, offerSdp, joinToken, origin });
    res.status(200).json({ session_id: r.sessionId, answer: { type: 'answer', sdp: r.answerSdp } });
  });

  router.post('/v1/webrtc/hangup', api, requireJson, json(HANGUP_BODY_LIMIT), (req, res) => {
    const id = (req.body as { session_id?: unknown } | undefined)?.session_id;
    if (typeof id !== 'string' || !SESSION_ID.test(id)) throw badRequest('session_id_required', 'session_id (from the offer answer) is required');
    if (!calls.hangup(id)) throw new AppError('session_not_found', 'no such call on this server (it ended, or another instance holds it)', { status: 404 });
    res.status(200).json({ ended: true });
  });
  return router;
}

function requireJson(req: Request, _res: unknown, next: (err?: unknown) => void): void {
  if (!req.is('application/json')) return next(new AppError('unsupported_media_type', 'send the body as Content-Type: application/json', { status: 415 }));
  next();
}

/** `{type:"offer", sdp}` as RTCPeerConnection.localDescription serializes it; a bare SDP string is accepted too. */
function sdpOf(offer: unknown): string {
  const o = offer as { type?: unknown; sdp?: unknown } | string | undefined;
  const sdp = typeof o === 'string' ? o : o?.sdp;
  if (typeof o === 'object' && o !== null && o.type !== undefined && o.type !== 'offer') throw badRequest('invalid_offer', 'offer.type must be "offer"');
  if (typeof sdp !== 'string' || !sdp.startsWith('v=0')) throw badRequest('invalid_offer', 'offer must be an SDP offer ({type:"offer", sdp:"v=0…"})');
  const check = checkOfferSdp(sdp);
  if (!check.ok) throw badRequest('invalid_offer', check.reason);
  return sdp;
}

/**
 * Per client address (req.ip, as TRUST_PROXY allows; IPv6 per /64), counted before the body is
 * read, so junk costs one Redis call. Refused: 429 `rate_limited` with Retry-After (seconds).
 */
function offerRateLimit(limiter: { hit(subject: string): Promise<RateLimitResult> }, refused: (reason: string) => void): RequestHandler {
  return async (req, res, next) => {
    const subject = clientAddressKey(req.ip);
    let r: RateLimitResult;
    try {
      r = await limiter.hit(subject);
    } catch (e) {
      refused('capacity_error');
      req.log?.error({ err: errorMessage(e) }, 'webrtc: offer rate check failed');
      return next(new AppError('at_capacity', 'calls cannot be admitted right now; try again later', { status: 503, retryable: true, cause: e }));
    }
    if (r.ok) return next();
    const retryAfterSec = Math.max(1, Math.ceil(r.retryAfterMs / 1000));
    refused('rate_limited');
    req.log?.info({ client: subject, retryAfterSec }, 'webrtc offer refused: rate limited');
    res.setHeader('Retry-After', String(retryAfterSec));
    next(new AppError('rate_limited', `too many call attempts from this address; try again in ${retryAfterSec} s`, { status: 429, retryable: true }));
  };
}
