import type { Config } from '../../lib/config';
import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import type { SttDebugDumper } from '../../lib/stt/debug-dump';
import type { SpeechToText } from '../../lib/stt/port';
import { FinalDeduper } from '../../lib/stt/transcript-filter';
import type { TenantConfig } from '../../lib/tenants/tenant-config';
import { Endpointer } from '../audio/endpointer';
import type { FrontEnd } from '../frontend/front-end';
import type { FrontEndPool } from '../frontend/front-end-pool';
import type { SlotSettings } from '../frontend/front-end-wire';
import { LocalFrontEnd } from '../frontend/local-front-end';
import type { CallInputListener } from '../ports';
import type { VadFactory } from '../vad/vad-factory';
import { SpeechPipeline } from './speech-pipeline';

/** Silence after which the caller's words so far are transcribed for the end-of-turn rule. */
const PAUSE_MS = 120;
/**
 * Silence after which the words of a pause may be the whole turn (a speculative reply starts): shorter
 * pauses are common inside a sentence and would start replies for nothing.
 */
const SETTLED_MS = 300;

/** stt.mode "disabled": every utterance is silence, and nothing is sent anywhere. */
const NO_STT: SpeechToText = { transcribe: async () => ({ text: '', latencyMs: 0, attempts: 0 }) };

export type SpeechConfig = Pick<
  Config,
  | 'WHISPER_URL'
  | 'STT_CHUNK_MS'
  | 'STT_SILENCE_MS'
  | 'STT_PRE_ROLL_MS'
  | 'STT_PARTIAL_MIN_MS'
  | 'TURN_END_MODE'
  | 'TURN_COMPLETE_SILENCE_MS'
  | 'TURN_INCOMPLETE_SILENCE_MS'
  | 'STT_MAX_UTTERANCE_MS'
  | 'STT_HIGHPASS_ENABLED'
  | 'STT_HIGHPASS_CUTOFF_HZ'
>;

export interface SpeechPipelineFactoryDeps {
  config: SpeechConfig;
  vadFactory: VadFactory;
  /** Front-end worker threads (MEDIA_WORKERS); without them, or with a debug dump on, the front end runs here. */
  frontEnds?: FrontEndPool;
  stt: SpeechToText;
  dumper: SttDebugDumper;
  /** Partials are best effort: why not to send one now (see SpeechPipelineDeps), or undefined. */
  partialSkipReason?: () => string | undefined;
  metrics: Metrics;
  logger: Logger;
  now?: () => number;
}

/**
 * The STT front end of one call (16 kHz → high-pass → VAD → endpointer → Whisper) from env defaults
 * and the tenant's `stt` settings. Every transport builds it here: Telnyx media streams (media/session)
 * and WebRTC HD browser calls (media/webrtc), so both hear the caller the same way.
 */
export function createSpeechPipeline(
  d: SpeechPipelineFactoryDeps,
  tenant: TenantConfig | undefined,
  callControlId: string,
  listener: CallInputListener,
): SpeechPipeline {
  const c = d.config;
  const turns = tenant?.turnTaking;
  const byTranscript = (turns?.mode ?? c.TURN_END_MODE) === 'transcript';
  const settings: SlotSettings = {
    highPassCutoffHz: c.STT_HIGHPASS_ENABLED ? c.STT_HIGHPASS_CUTOFF_HZ : null,
    endpointer: {
      preRollMs: c.STT_PRE_ROLL_MS,
      // Timed from the end of the caller's speech, not from the detector's late verdict (vadEndLagMs).
      silenceMs: c.STT_SILENCE_MS,
      chunkMs: tenant?.stt?.chunkMs ?? c.STT_CHUNK_MS,
      partialMinMs: c.STT_PARTIAL_MIN_MS,
      maxUtteranceMs: c.STT_MAX_UTTERANCE_MS,
      // Silence mode: no pause transcripts, the silence rule alone (as before).
      pauseMs: byTranscript ? PAUSE_MS : 0,
      settledMs: byTranscript ? SETTLED_MS : 0,
    },
  };
  // The debug dump taps the 16 kHz audio on this thread, so it keeps the front end here.
  const remote = d.frontEnds && !d.dumper.enabled ? d.frontEnds.open(settings) : undefined;
  const frontEnd: FrontEnd = remote ?? localFrontEnd(d, settings, callControlId);
  return new SpeechPipeline({
    callControlId,
    frontEnd,
    endpointer: frontEnd,
    endOfTurn: byTranscript
      ? {
          completeMs: turns?.completeSilenceMs ?? c.TURN_COMPLETE_SILENCE_MS,
          incompleteMs: turns?.incompleteSilenceMs ?? c.TURN_INCOMPLETE_SILENCE_MS,
          silenceMs: c.STT_SILENCE_MS,
          words: turns,
        }
      : undefined,
    // stt.mode "disabled": VAD still runs (speech onset drives barge-in) but nothing is transcribed.
    stt: tenant?.stt?.mode === 'disabled' ? NO_STT : d.stt,
    sttUrl: tenant?.stt?.whisperUrl ?? c.WHISPER_URL,
    language: tenant?.stt?.language,
    deduper: new FinalDeduper(),
    dumper: d.dumper,
    listener,
    partialSkipReason: d.partialSkipReason,
    metrics: d.metrics,
    logger: d.logger,
    now: d.now ?? Date.now,
  });
}

function localFrontEnd(d: Pick<SpeechPipelineFactoryDeps, 'vadFactory' | 'dumper' | 'logger'>, s: SlotSettings, callControlId: string): LocalFrontEnd {
  const vad = d.vadFactory.create();
  return new LocalFrontEnd({
    highPassCutoffHz: s.highPassCutoffHz,
    vad,
    endpointer: new Endpointer({ ...s.endpointer, vadEndLagMs: vad.endLagMs }),
    tap: d.dumper.enabled ? (frame) => d.dumper.pcm(callControlId, frame) : undefined,
    onVadError: (err) => d.logger.warn({ callControlId, err: err instanceof Error ? err.message : String(err) }, 'VAD failed on a frame'),
  });
}
