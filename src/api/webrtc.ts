/**
 * WebRTC HD routes (TRANSPORT_MODE=webrtc_hd), on the main port:
 *   GET  /hd-call?tenant_id=…      the browser call page (+ /hd-call/hd-call.js, /hd-call/hd-call.css)
 *   POST /v1/webrtc/offer          {offer: {type:"offer", sdp}, tenant_id} → {session_id, answer}
 *   POST /v1/webrtc/hangup         {session_id} → {ended: true}
 * Errors are `{error, message}` (api/error-handler.ts). With TRANSPORT_MODE=pstn every route
 * answers 404 `webrtc_disabled`, saying how to turn it on.
 */
import express, { Router, type Request } from 'express';
import { AppError, badRequest } from '../lib/errors';
import type { OfferAnswer } from '../media/webrtc/webrtc-calls';
import { MAX_OFFER_SDP_BYTES } from '../media/webrtc/peer';
import { hdCallAssets, HD_CALL_ASSETS, type HdCallAssetPath } from './hd-call-page';
import { OriginPolicy } from './webrtc-origin';

export interface WebrtcService {
  offer(tenantId: string, offerSdp: string): Promise<OfferAnswer>;
  hangup(sessionId: string): boolean;
}

export interface WebrtcRouterDeps {
  /** undefined: TRANSPORT_MODE=pstn. */
  calls: WebrtcService | undefined;
  allowedOrigins: readonly string[];
  /** Directory of the page's files (tests). */
  publicDir?: string;
}

/** An offer body is the SDP (≤ 32 kB) plus a little JSON; escaping can double the SDP's size. */
const OFFER_BODY_LIMIT = '80kb';
const HANGUP_BODY_LIMIT = '1kb';
/** Tenant ids are Redis key parts (`tenantcfg:<id>`): printable, bounded. */
const TENANT_ID = /^[A-Za-z0-9._:@-]{1,128}$/;
const SESSION_ID = /^webrtc-[0-9a-f-]{36}$/;

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

  router.post('/v1/webrtc/offer', api, requireJson, json(OFFER_BODY_LIMIT), async (req, res) => {
    const body = (req.body ?? {}) as { tenant_id?: unknown; offer?: unknown };
    const tenantId = typeof body.tenant_id === 'string' ? body.tenant_id.trim() : '';
    if (!TENANT_ID.test(tenantId)) throw badRequest('tenant_id_required', 'tenant_id is required: 1–128 characters of A–Z a–z 0–9 . _ : @ -');
    const sdp = offerSdp(body.offer);
    const r = await calls.offer(tenantId, sdp);
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
function offerSdp(offer: unknown): string {
  const o = offer as { type?: unknown; sdp?: unknown } | string | undefined;
  const sdp = typeof o === 'string' ? o : o?.sdp;
  if (typeof o === 'object' && o !== null && o.type !== undefined && o.type !== 'offer') throw badRequest('invalid_offer', 'offer.type must be "offer"');
  if (typeof sdp !== 'string' || !sdp.startsWith('v=0')) throw badRequest('invalid_offer', 'offer must be an SDP offer ({type:"offer", sdp:"v=0…"})');
  if (Buffer.byteLength(sdp) > MAX_OFFER_SDP_BYTES) throw badRequest('invalid_offer', `the SDP offer exceeds ${MAX_OFFER_SDP_BYTES} bytes`);
  if (!/^m=audio /m.test(sdp)) throw badRequest('invalid_offer', 'the offer has no audio (m=audio) section');
  return sdp;
}
