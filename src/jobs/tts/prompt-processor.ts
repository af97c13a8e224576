import type { Job } from 'bullmq';
import { errorMessage, isRetryable } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import { audioUrlFor } from '../../lib/audio-url';
import type { CommandProducer } from '../call-control/command-producer';
import { HANGUP_GRACE_MS, hangupFallbackJobId, SPEAK_MS_PER_CHAR, type PromptJobData } from './prompt-job';
import type { SynthesizedFile, SynthesizeToFileRequest } from '../../lib/tts/synthesize';

export interface PromptProcessorDeps {
  synthesize(req: SynthesizeToFileRequest): Promise<SynthesizedFile>;
  commands: CommandProducer;
  audioPublicBaseUrl: string;
  metrics: Metrics;
  logger: Logger;
}

/**
 * Synthesizes a prompt and plays it with `playback_start`. When synthesis keeps failing the prompt
 * is still heard: Telnyx `speak` reads it out instead (never silence). For prompts that end the
 * call, a delayed fallback hangup fires if Telnyx never reports the playback's end.
 */
export function createPromptProcessor(deps: PromptProcessorDeps) {
  return async (job: Job<PromptJobData>): Promise<string> => {
    const d = job.data;
    let expectedMs: number;
    let mode: string;
    try {
      const file = await deps.synthesize({ url: d.kokoroUrl, text: d.text, voice: d.voice, sampleRate: d.sampleRate, speed: d.speed });
      await deps.commands.issue(d.callControlId, 'playback_start', {
        audio_url: audioUrlFor(deps.audioPublicBaseUrl, file.fileName),
        ...(d.clientState ? { client_state: d.clientState } : {}),
      });
      expectedMs = file.durationMs;
      mode = file.cached ? 'playback_cached' : 'playback';
    } catch (err) {
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (isRetryable(err) && !lastAttempt) throw err;
      deps.logger.warn({ callControlId: d.callControlId, err: errorMessage(err) }, 'prompt synthesis failed; falling back to Telnyx speak');
      await deps.commands.issue(d.callControlId, 'speak', {
        payload: d.text,
        voice: 'female',
        language: 'en-US',
        ...(d.clientState ? { client_state: d.clientState } : {}),
      });
      expectedMs = d.text.length * SPEAK_MS_PER_CHAR;
      mode = 'speak_fallback';
    }
    if (d.hangupAfter) {
      await deps.commands.issue(d.callControlId, 'hangup', {}, { delayMs: expectedMs + HANGUP_GRACE_MS, jobId: hangupFallbackJobId(d.callControlId) });
    }
    deps.metrics.jobsProcessed.inc({ queue: 'tts', outcome: mode });
    return mode;
  };
}
