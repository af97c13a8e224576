/**
 * The one place a Conversation is built, for phone calls (LiveCalls, src/media/live-calls.ts) and browser calls
 * (WebrtcCalls): the same brain, settings, URL policy, metrics and a fresh history per call.
 * Reply segments are synthesized in this process and handed straight to the conversation
 * (stream playback, browser calls), unless the request brings its own synth (url playback queues
 * them: Telnyx fetches the files anyway).
 */
import { CallHistory } from '../lib/brain/history';
import type { Brain } from '../lib/brain/port';
import type { Limiter } from '../lib/limiter';
import type { Logger } from '../lib/logger';
import type { Metrics } from '../lib/metrics';
import type { UrlPolicy } from '../lib/net/url-policy';
import type { TenantConfig } from '../lib/tenants/tenant-config';
import { ttsSettingsFor, type TtsDefaults } from '../jobs/calls/prompt-speaker';
import type { SegmentVoiceSettings } from '../jobs/tts/segment-requester';
import type { SynthesizeDeps } from '../lib/tts/synthesize';
import type { AgentVoice } from '../media/conversation/agent-voice';
import { Conversation, type ConversationSettings, type SegmentSynth, type SpeechControl } from '../media/conversation/conversation';
import type { CallCommands } from '../media/conversation/url-voice';
import { directSegmentSynth } from './direct-segment-synth';

export interface ConversationParts {
  brain: Brain;
  settings: ConversationSettings;
  /** What a brain transfer's audioUrl may name (TENANT_URL_ALLOWED_HOSTS). */
  urlPolicy: UrlPolicy;
  /** In-process synthesis: env voice defaults (a tenant's tts.* wins), synthesis, the shared concurrency bound. */
  tts: { defaults: TtsDefaults; synth: SynthesizeDeps; limiter: Limiter };
  metrics: Metrics;
  logger: Logger;
}

/** What the transport knows about one call. */
export interface ConversationRequest {
  callControlId: string;
  tenantId: string;
  tenant: TenantConfig | undefined;
  voice: AgentVoice;
  commands: CallCommands;
  speech: SpeechControl;
  /** Reply segments synthesized elsewhere (url playback: the tts queue); default: in this process. */
  queuedSynth?: (tts: SegmentVoiceSettings) => SegmentSynth;
}

export type ConversationFactory = (req: ConversationRequest) => Conversation;

export function conversationFactory(p: ConversationParts): ConversationFactory {
  return (req) => {
    // Tenant tts.sampleRate (24/48 kHz) is kept as is: each transport's playout resamples.
    const tts = ttsSettingsFor(p.tts.defaults, req.tenant);
    const conversation: Conversation = new Conversation({
      callControlId: req.callControlId,
      tenantId: req.tenantId,
      tenant: req.tenant,
      urlPolicy: p.urlPolicy,
      voice: req.voice,
      brain: p.brain,
      synth:
        req.queuedSynth?.(tts) ??
        directSegmentSynth({
          callControlId: req.callControlId,
          tts,
          synth: p.tts.synth,
          limiter: p.tts.limiter,
          metrics: p.metrics,
          // A closed conversation ignores late results (its turn is gone).
          deliver: (_id, turnId, index, r) => ('error' in r ? conversation.onTtsFailed(turnId, index, r.error) : conversation.onTtsReady(turnId, index, r)),
        }),
      commands: req.commands,
      speech: req.speech,
      history: new CallHistory(),
      settings: p.settings,
      metrics: p.metrics,
      logger: p.logger,
      now: Date.now,
    });
    return conversation;
  };
}
