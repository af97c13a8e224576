/**
 * Wiring of the WebRTC HD transport (TRANSPORT_MODE=webrtc_hd) from the ingress' parts: the same
 * STT front end, brain, in-process TTS and conversation settings as phone calls in stream mode,
 * the same tenant configs and capacity scripts — but browser calls count in their own capacity
 * key space with their own caps and lease keeper, so browser traffic can never take a phone slot.
 * The global browser cap is separate too (WEBRTC_GLOBAL_CONCURRENCY_CAP): a shared one could be
 * filled by strangers across tenants and then refuse phone calls. With TRANSPORT_MODE=pstn only
 * the router exists (answering `webrtc_disabled`) and werift is never loaded.
 */
import type { Router } from 'express';
import { webrtcRouter } from '../api/webrtc';
import { CallHistory } from '../lib/brain/history';
import type { Brain } from '../lib/brain/types';
import { browserCallLimits, Capacity, LeaseKeeper, webrtcCapacityPrefix, webrtcOfferRatePrefix } from '../lib/capacity';
import { CallAdmission } from '../lib/calls/admission';
import type { SttDebugDumper } from '../lib/stt/debug-dump';
import type { Limiter } from '../lib/limiter';
import { RateLimiter } from '../lib/rate-limit/rate-limiter';
import { ttsSettingsFor, type TtsDefaults } from '../jobs/calls/prompt-speaker';
import type { SynthesizeDeps } from '../jobs/tts/synthesize';
import type { VadFactory } from '../media/audio/vad-factory';
import { Conversation, type ConversationSettings } from '../media/conversation/conversation';
import { createSpeechPipeline } from '../media/session/session-factory';
import type { Transcriber } from '../media/session/speech-pipeline';
import { WebrtcCalls } from '../media/webrtc/webrtc-calls';
import { weriftLoader } from '../media/webrtc/werift-loader';
import { weriftPeerFactory } from '../media/webrtc/werift-peer';
import { directSegmentSynth } from './direct-segment-synth';
import type { Shared } from './shared';

export interface WebrtcParts {
  vadFactory: VadFactory;
  stt: Transcriber;
  dumper: SttDebugDumper;
  /** Shared with phone calls: when to skip best-effort partial transcripts. */
  partialSkipReason?: () => string | undefined;
  brain: Brain;
  tts: { defaults: TtsDefaults; synth: SynthesizeDeps; limiter: Limiter };
  settings: ConversationSettings;
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
    // The phone line's resolver and cache: a tenant config is read and checked once for both.
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
          { config, vadFactory: p.vadFactory, stt: p.stt, dumper: p.dumper, partialSkipReason: p.partialSkipReason, metrics, logger },
          tenant,
          sessionId,
          listener,
        ),
      conversationFor: (c) => {
        const conversation: Conversation = new Conversation({
          callControlId: c.sessionId,
          tenantId: c.tenantId,
          tenant: c.tenant,
          urlPolicy: s.urlPolicy,
          voice: c.voice,
          brain: p.brain,
          // Tenant tts.sampleRate (24/48 kHz) reaches the browser as is: the playout resamples to 48 kHz.
          synth: directSegmentSynth({
            callControlId: c.sessionId,
            tts: ttsSettingsFor(p.tts.defaults, c.tenant),
            synth: p.tts.synth,
            limiter: p.tts.limiter,
            metrics,
            deliver: (_id, turnId, index, r) => ('error' in r ? conversation.onTtsFailed(turnId, index, r.error) : conversation.onTtsReady(turnId, index, r)),
          }),
          commands: c.commands,
          speech: c.speech,
          history: new CallHistory(),
          settings: p.settings,
          metrics,
          logger,
          now: Date.now,
        });
        return conversation;
      },
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
