/**
 * Wiring of the WebRTC HD transport (TRANSPORT_MODE=webrtc_hd) from the ingress' parts: the same
 * STT front end and conversation factory (brain, in-process TTS, settings) as phone calls in stream
 * mode, the same tenant resolver (and its cache) and admission path (lib/calls/admission.ts) — but
 * browser calls count in their own capacity key space with their own caps and lease keeper, so
 * browser traffic can never take a phone slot.
 * The global browser cap is separate too (WEBRTC_GLOBAL_CONCURRENCY_CAP): a shared one could be
 * filled by strangers across tenants and then refuse phone calls. With TRANSPORT_MODE=pstn only
 * the router exists (answering `webrtc_disabled`) and werift is never loaded.
 */
import type { Router } from 'express';
import { webrtcRouter } from '../api/webrtc';
import { browserCallLimits, Capacity, LeaseKeeper, webrtcCapacityPrefix, webrtcOfferRatePrefix } from '../lib/capacity';
import { CallAdmission } from '../lib/calls/admission';
import type { SttDebugDumper } from '../lib/stt/debug-dump';
import type { SpeechToText } from '../lib/stt/port';
import { RateLimiter } from '../lib/rate-limit/rate-limiter';
import type { VadFactory } from '../media/vad/vad-factory';
import { createSpeechPipeline } from '../media/speech/create-speech-pipeline';
import type { FrontEndPool } from '../media/frontend/front-end-pool';
import { WebrtcCalls } from '../media/webrtc/webrtc-calls';
import { weriftLoader } from '../media/webrtc/werift-loader';
import { weriftPeerFactory } from '../media/webrtc/werift-peer';
import type { ConversationFactory } from './conversations';
import type { Shared } from './shared';

export interface WebrtcParts {
  vadFactory: VadFactory;
  /** Front-end worker threads, when running (MEDIA_WORKERS). */
  frontEnds?: FrontEndPool;
  stt: SpeechToText;
  dumper: SttDebugDumper;
  /** Shared with phone calls: when to skip best-effort partial transcripts. */
  partialSkipReason?: () => string | undefined;
  /** The same conversation factory as phone calls (brain, in-process TTS, settings). */
  conversationFor: ConversationFactory;
}

/** WEBRTC_OFFERS_PER_MIN_PER_IP counts offers in this sliding window. */
const OFFER_RATE_WINDOW_MS = 60_000;

export interface WebrtcTransport {
  router: Router;
  /** undefined with TRANSPORT_MODE=pstn. */
  calls: WebrtcCalls | undefined;
  close(): Promise<void>;
}

export function buildWebrtc(s: Shared, p: WebrtcParts): WebrtcTransport {
  const { config, logger, metrics } = s;
  if (config.TRANSPORT_MODE !== 'webrtc_hd') {
    return { router: webrtcRouter({ calls: undefined, allowedOrigins: config.WEBRTC_ALLOWED_ORIGINS }), calls: undefined, close: async () => undefined };
  }
  const leaseMs = config.CAPACITY_TTL_SECONDS * 1000;
  const capacity = new Capacity({ redis: s.redis, prefix: webrtcCapacityPrefix(config.CAP_PREFIX) });
  const leases = new LeaseKeeper({ capacity, leaseMs, logger });
  const offerRate = new RateLimiter({ redis: s.redis, prefix: webrtcOfferRatePrefix(config.CAP_PREFIX), limit: config.WEBRTC_OFFERS_PER_MIN_PER_IP, windowMs: OFFER_RATE_WINDOW_MS });
  const browserDefaults = { globalMax: config.WEBRTC_GLOBAL_CONCURRENCY_CAP, tenantMax: config.WEBRTC_TENANT_CONCURRENCY_CAP_DEFAULT, tenantPerMinute: config.WEBRTC_TENANT_CALLS_PER_MIN_CAP_DEFAULT };
  const admission = new CallAdmission({
    line: 'webrtc',
    // The resolver (and cache) of phone calls: a tenant config is read and checked once for both lines.
    tenants: s.tenants,
    limitsFor: (_tenantId, tenant) => browserCallLimits(tenant.webrtc, browserDefaults),
    capacity,
    leases,
    leaseMs,
    metrics: { denied: (reason) => metrics.webrtcRefusals.inc({ reason }), active: (n) => metrics.webrtcActiveCalls.set(n) },
    logger,
  });
  const calls = new WebrtcCalls({
    loadLibrary: weriftLoader(),
    peerFactory: (lib) => weriftPeerFactory(lib, logger),
    admission,
    requireJoinToken: config.WEBRTC_REQUIRE_JOIN_TOKEN,
    maxDurationMs: config.MAX_CALL_DURATION_MS,
    media: {
      speechFor: (sessionId, tenant, listener) =>
        createSpeechPipeline(
          { config, vadFactory: p.vadFactory, frontEnds: p.frontEnds, stt: p.stt, dumper: p.dumper, partialSkipReason: p.partialSkipReason, metrics, logger },
          tenant,
          sessionId,
          listener,
        ),
      conversationFor: (c) => p.conversationFor({ callControlId: c.sessionId, tenantId: c.tenantId, tenant: c.tenant, voice: c.voice, commands: c.commands, speech: c.speech }),
      audioStorageDir: config.AUDIO_STORAGE_DIR,
      logger,
    },
    metrics,
    logger,
  });
  logger.info({ allowedOrigins: config.WEBRTC_ALLOWED_ORIGINS }, 'TRANSPORT_MODE=webrtc_hd: browser calls at /hd-call, PSTN as usual');
  return {
    router: webrtcRouter({ calls, allowedOrigins: config.WEBRTC_ALLOWED_ORIGINS, offerRate, metrics }),
    calls,
    close: async () => {
      await calls.closeAll();
      // Leases of calls still up are left to expire, as for phone calls.
      await leases.stop();
    },
  };
}
