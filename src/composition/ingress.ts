import http from 'node:http';
import { Router } from 'express';
import type { Redis } from 'ioredis';
import { adminRouter } from '../api/admin';
import { createApp } from '../api/app';
import { audioFilesRouter } from '../api/audio-files';
import { httpReachableCheck, redisCheck } from '../api/dependency-checks';
import { healthRouter } from '../api/health';
import { attachMediaServer } from '../api/media-ws';
import { telnyxWebhookRouter } from '../api/telnyx-webhook';
import { webhookFastPath } from '../api/webhook-fast-path';
import { AuthThrottle } from '../lib/auth-throttle/auth-throttle';
import { createBrainClient } from '../lib/brain/brain-client';
import { createLocalBrain } from '../lib/brain/local-brain';
import type { Brain } from '../lib/brain/port';
import type { CallRecord } from '../lib/calls/call-store';
import { createRedis, REQUEST_COMMAND_TIMEOUT_MS } from '../lib/redis';
import { createSttDebugDumper } from '../lib/stt/debug-dump';
import { createWhisperClient } from '../lib/stt/whisper-client';
import { createWebhookVerifier } from '../lib/telnyx/webhook-verify';
import type { TenantConfig } from '../lib/tenants/tenant-config';
import type { Config } from '../lib/config';
import type { Logger } from '../lib/logger';
import { errorMessage } from '../lib/errors';
import { StreamRestarter } from '../jobs/call-control/stream-restarter';
import { EventIngest } from '../jobs/events/event-ingest';
import { segmentRequester } from '../jobs/tts/segment-requester';
import { createKokoroClient } from '../lib/tts/kokoro-client';
import { createLimiter } from '../lib/limiter';
import { LoopLoad } from '../lib/loop-load';
import { conversationFactory } from './conversations';
import { CallHandoff } from './call-handoff';
import { buildWebrtc } from './webrtc';
import { TTS_CACHE_TTL_SEC } from './workers';
import { isAmrWbAvailable } from '../media/audio/codecs';
import { createVadFactory } from '../media/vad/vad-factory';
import { defaultFrontEndWorkers, FrontEndPool } from '../media/frontend/front-end-pool';
import { PHRASES } from '../media/conversation/phrases';
import type { CallInputListener } from '../media/ports';
import type { CallConversation } from '../media/live-call';
import { LiveCalls } from '../media/live-calls';
import { createSessionFactory } from '../media/session/session-factory';
import { createSpeechPipeline } from '../media/speech/create-speech-pipeline';
import type { Shared } from './shared';

export interface IngressOptions {
  isShuttingDown(): boolean;
  /** Replaces the conversation as the receiver of caller input (tests of the media layer alone). */
  listenerFor?: (call: CallRecord, tenant: TenantConfig | undefined) => CallInputListener;
}

export interface Ingress {
  server: http.Server;
  liveCalls: LiveCalls;
  handoff: CallHandoff;
  close(): Promise<void>;
}

/** Concurrent Kokoro requests per ingress process in stream mode (as many as the tts workers run). */
const TTS_MAX_CONCURRENT = 16;
/** Unanswered "Are you still there?" prompts before the goodbye (docs/design.md §Call behaviour: bounded). */
const MAX_DEAD_AIR_PROMPTS = 2;
/** After a barge-in, speech still going this long is a real interruption, not "mm-hm" (~400 ms). */
const BACKCHANNEL_MAX_MS = 450;
/** Above this event-loop utilization (last 0.5 s) partial transcripts are skipped (bench:media: 300 calls ≈ 0.94). */
const PARTIAL_MAX_LOOP_UTILIZATION = 0.8;

/** The HTTP server, the media WebSocket endpoint and the live conversations (PROCESS_ROLE all|api). */
export async function buildIngress(s: Shared, opts: IngressOptions): Promise<Ingress> {
  const { config, logger, metrics } = s;
  const t = config.HEALTH_CHECK_TIMEOUT_MS;
  const dependencyChecks = [
    httpReachableCheck('whisper', config.WHISPER_URL, t),
    httpReachableCheck('kokoro', config.KOKORO_URL, t),
    ...(config.BRAIN_URL ? [httpReachableCheck('brain', config.BRAIN_URL, t)] : []),
  ];
  // Filled once the conversation parts exist (below); mounted here to keep the route order.
  const webrtcRoutes = Router();
  const webhookDeps = {
    verifier: createWebhookVerifier({
      publicKeyB64: config.TELNYX_PUBLIC_KEY,
      // The local HMAC scheme only behind its explicit switch (config refuses it in production).
      hmacSecret: config.TELNYX_WEBHOOK_HMAC_ENABLED ? config.TELNYX_WEBHOOK_SECRET : undefined,
    }),
    ingest: new EventIngest(s.queues.events, s.order, { persistTimeoutMs: REQUEST_COMMAND_TIMEOUT_MS }),
    metrics,
  };
  // Plain webhook POSTs skip Express (api/webhook-fast-path.ts); everything else goes to the app.
  const webhookFast = webhookFastPath({ ...webhookDeps, logger });
  const app = createApp({
    logger,
    metrics,
    metricsToken: config.METRICS_TOKEN,
    trustProxy: config.TRUST_PROXY,
    routers: [
      healthRouter({
        readiness: redisCheck(s.redis, s.bullConnection),
        dependencies: dependencyChecks,
        timeoutMs: t,
        isShuttingDown: opts.isShuttingDown,
        detailToken: config.METRICS_TOKEN,
      }),
      telnyxWebhookRouter(webhookDeps),
      audioFilesRouter({ storageDir: config.AUDIO_STORAGE_DIR, publicBaseUrl: config.AUDIO_PUBLIC_BASE_URL }),
      adminRouter({
        user: config.ADMIN_USER,
        password: config.ADMIN_PASSWORD,
        queues: Object.values(s.queues),
        throttle: new AuthThrottle(s.redis, { prefix: config.STATE_PREFIX, scope: 'admin' }),
        readOnly: config.ADMIN_QUEUES_READ_ONLY,
      }),
      webrtcRoutes,
    ],
  });
  const server = http.createServer((req, res) => {
    if (!webhookFast.handle(req, res)) app(req, res);
  });
  // Slowloris bounds: headers within 10 s, whole request within 30 s.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;

  const frontEnds = await startFrontEnds(config, logger);
  // With the front-end workers up, a call runs here only if every worker died: the energy VAD then.
  const vadFactory = await createVadFactory({ mode: frontEnds ? 'energy' : config.VAD_MODE, logger });
  if (vadFactory.fellBack) logger.warn({ reason: vadFactory.fallbackReason }, 'Silero VAD degraded');
  if (!isAmrWbAvailable()) logger.warn('libopencore-amrwb not found: AMR-WB streams fall back to PCMU (apt-get install libopencore-amrwb0)');
  const whisper = createWhisperClient({ timeoutMs: config.STT_TIMEOUT_MS, maxConcurrent: config.STT_MAX_CONCURRENT, lookup: s.tenantUrlLookup, logger });
  // Partial transcripts are best effort: they never take an STT slot a final could need, and they are
  // shed while the event loop is overloaded (they were ~20 % of its busy time at 200 calls).
  const loopLoad = new LoopLoad();
  const partialSkipReason = (): string | undefined =>
    whisper.queued > 0 || whisper.active >= config.STT_MAX_CONCURRENT ? 'stt_busy' : loopLoad.utilization > PARTIAL_MAX_LOOP_UTILIZATION ? 'loop_busy' : undefined;
  // Without BRAIN_URL the built-in local brain answers (quick replies, assistantContext, canned answers).
  const brain: Brain = config.BRAIN_URL
    ? createBrainClient({
        baseUrl: config.BRAIN_URL,
        timeoutMs: config.BRAIN_TIMEOUT_MS,
        streamingEnabled: config.BRAIN_STREAMING_ENABLED,
        streamPath: config.BRAIN_STREAM_PATH,
        pingMs: config.BRAIN_STREAM_PING_MS,
        logger,
      })
    : createLocalBrain();
  if (!config.BRAIN_URL) logger.warn('BRAIN_URL not set: the built-in local brain answers (quick replies, assistantContext, canned answers)');
  const restarter = new StreamRestarter(s.commands, s.stream);
  const ttsDefaults = { kokoroUrl: config.KOKORO_URL, voice: config.KOKORO_VOICE, sampleRate: config.TTS_SAMPLE_RATE };
  const synthDeps = {
    tts: createKokoroClient({ timeoutMs: 15_000, lookup: s.tenantUrlLookup }),
    storageDir: config.AUDIO_STORAGE_DIR,
    redis: s.redis,
    cachePrefix: `${config.STATE_PREFIX}:tts`,
    cacheTtlSec: TTS_CACHE_TTL_SEC,
    logger,
  };
  // Bounds this process's concurrent Kokoro requests (stream mode synthesizes here, not in workers).
  const ttsLimiter = createLimiter({ kind: 'tts', maxConcurrent: TTS_MAX_CONCURRENT, maxQueue: TTS_MAX_CONCURRENT * 8 });
  const conversationSettings = {
    greeting: config.GREETING_TEXT ?? PHRASES.defaultGreeting,
    deadAirMs: config.DEAD_AIR_MS,
    maxDeadAirPrompts: MAX_DEAD_AIR_PROMPTS,
    segment: {
      firstMinChars: config.BRAIN_STREAM_SEGMENT_MIN_CHARS,
      nextMaxChars: config.BRAIN_STREAM_SEGMENT_NEXT_CHARS,
      firstAudioMaxMs: config.BRAIN_STREAM_FIRST_AUDIO_MAX_MS,
      firstClauseMinChars: config.BRAIN_STREAM_FIRST_CLAUSE_MIN_CHARS,
    },
    backchannelMaxMs: BACKCHANNEL_MAX_MS,
    backchannelByTranscript: config.TURN_END_MODE === 'transcript',
    speculate: config.TURN_SPECULATIVE_REPLY,
  };
  const makeConversation = conversationFactory({
    brain,
    settings: conversationSettings,
    urlPolicy: s.urlPolicy,
    tts: { defaults: ttsDefaults, synth: synthDeps, limiter: ttsLimiter },
    metrics,
    logger,
  });
  const dumper = createSttDebugDumper({ dir: config.STT_DEBUG_DIR, dumpWavs: config.STT_DEBUG_DUMP_WHISPER_WAVS, dumpPcm: config.STT_DEBUG_DUMP_PCM16, logger });
  const mediaDeps = { config, vadFactory, frontEnds, stt: whisper, dumper, partialSkipReason, metrics, logger };
  const liveCalls: LiveCalls = new LiveCalls({
    playbackMode: config.PLAYBACK_MODE,
    bidirectionalCodec: config.TELNYX_STREAM_CODEC === 'AMR-WB' ? 'PCMU' : config.TELNYX_STREAM_CODEC,
    audioPublicBaseUrl: config.AUDIO_PUBLIC_BASE_URL,
    audioStorageDir: config.AUDIO_STORAGE_DIR,
    commands: s.commands,
    conversationFor: ({ call, tenant, voice, commands, speech }) => {
      const replaced = opts.listenerFor?.(call, tenant);
      if (replaced) return listenerOnly(replaced, voice);
      return handoff.conversation(call.callControlId, speech, (hooks) =>
        makeConversation({
          ...hooks,
          callControlId: call.callControlId,
          tenantId: call.tenantId ?? 'unknown',
          tenant,
          voice,
          commands,
          speech,
          // url playback: Telnyx fetches files anyway, so segments go through the tts queue (stream mode synthesizes here).
          queuedSynth: config.PLAYBACK_MODE === 'stream' ? undefined : (tts) => segmentRequester(s.queues.tts, call.callControlId, s.instanceId, tts),
        }),
      );
    },
    pipelineFor: (call, tenant, listener) => createSpeechPipeline(mediaDeps, tenant, call.callControlId, listener),
    sessionFor: createSessionFactory({ ...mediaDeps, streamControl: { restart: (callId, codec) => restarter.restart(callId, codec) } }),
    metrics,
    logger,
  });
  const handoff: CallHandoff = new CallHandoff(s, liveCalls, restarter);
  handoff.start();
  const sub: Redis = createRedis(s.redisTarget, 'subscriber', logger, 'call-bus');
  s.bus.onMessage((m) => liveCalls.onBus(m));
  // Not awaited: with Redis down the subscription completes when it comes back (ioredis
  // re-subscribes after every reconnect), and the server must come up meanwhile.
  s.bus.listen(sub, s.instanceId).catch((err: unknown) => logger.error({ err: (err as Error).message }, 'call bus subscription failed'));

  const webrtc = buildWebrtc(s, { vadFactory, frontEnds, stt: whisper, dumper, partialSkipReason, conversationFor: makeConversation });
  webrtcRoutes.use(webrtc.router);
  const media = attachMediaServer(server, {
    mediaStreamToken: config.MEDIA_STREAM_TOKEN,
    calls: s.calls,
    liveCalls,
    prepareCall: async (call) => {
      // Webhooks for this call are forwarded to this instance from now on; it owns the call (and, for a
      // call that moved here, resumes its conversation).
      await s.calls.update(call.callControlId, { mediaInstance: s.instanceId });
      await handoff.adopt(call);
      const r = call.did ? await s.tenants.resolve(call.did).catch(() => undefined) : undefined;
      return r?.kind === 'ok' ? r.config : undefined;
    },
    acceptsStreams: () => handoff.acceptsStreams,
    metrics,
    logger,
  });

  return {
    server,
    liveCalls,
    handoff,
    async close() {
      handoff.stop();
      await webrtc.close();
      media.close();
      liveCalls.closeAll(1001, 'server shutting down');
      whisper.close();
      brain.close();
      sub.disconnect();
      await vadFactory.close();
      await frontEnds?.close();
      loopLoad.close();
      for (const c of dependencyChecks) c.close?.();
      webhookFast.close();
    },
  };
}

/**
 * The speech front end's worker threads (MEDIA_WORKERS > 0): one per core but one by default. Not with a
 * PCM debug dump (it taps the audio on this thread); if they cannot start, the front end runs on
 * this thread (logged).
 */
async function startFrontEnds(config: Config, logger: Logger): Promise<FrontEndPool | undefined> {
  const workers = config.MEDIA_WORKERS === 'auto' ? defaultFrontEndWorkers() : config.MEDIA_WORKERS;
  if (workers === 0 || config.STT_DEBUG_DUMP_PCM16) return undefined;
  try {
    return await FrontEndPool.start({ workers, vad: config.VAD_MODE, logger });
  } catch (err) {
    logger.warn({ err: errorMessage(err) }, 'speech front-end workers unavailable: the front end runs on the main thread');
    return undefined;
  }
}

/** A caller-input listener standing in for the conversation (IngressOptions.listenerFor): it only hears. */
function listenerOnly(l: CallInputListener, voice: { close(): void }): CallConversation {
  const nothing = () => undefined;
  return {
    speechStarted: (atMs) => l.speechStarted(atMs),
    speechDiscarded: () => l.speechDiscarded?.(),
    partial: (text) => l.partial(text),
    wantsPartials: l.wantsPartials,
    final: (text, timings) => l.final(text, timings),
    dtmf: (digit) => l.dtmf(digit),
    sttError: (err) => l.sttError(err),
    start: nothing,
    onWebhook: nothing,
    onTtsReady: nothing,
    onTtsFailed: nothing,
    onCommandFailed: nothing,
    segmentStarted: nothing,
    segmentDone: nothing,
    idle: nothing,
    close: () => voice.close(),
  };
}
