import type { Job } from 'bullmq';
import type { CallBus } from '../../lib/call-bus';
import { errorMessage, isRetryable } from '../../lib/errors';
import type { Metrics } from '../../lib/metrics';
import type { SegmentJobData } from './segment-job';
import type { SynthesizedFile, SynthesizeToFileRequest } from '../../lib/tts/synthesize';

/**
 * Synthesizes one reply segment and tells the session's instance over the call bus (no polling).
 * A failure after the last attempt is reported too, so the session never waits in silence.
 */
export function createSegmentProcessor(deps: { synthesize(req: SynthesizeToFileRequest): Promise<SynthesizedFile>; bus: CallBus; metrics: Metrics }) {
  return async (job: Job<SegmentJobData>): Promise<string> => {
    const d = job.data;
    try {
      const file = await deps.synthesize({ url: d.kokoroUrl, text: d.text, voice: d.voice, sampleRate: d.sampleRate, speed: d.speed });
      deps.metrics.ttsSegments.inc({ outcome: file.cached ? 'cache_hit' : 'synthesized' });
      await deps.bus.publish(d.notify, {
        type: 'tts_ready',
        callId: d.callControlId,
        turnId: d.turnId,
        index: d.index,
        fileName: file.fileName,
        durationMs: file.durationMs,
        sampleRate: file.sampleRate,
        cached: file.cached,
      });
      return file.fileName;
    } catch (err) {
      const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (isRetryable(err) && !last) throw err;
      deps.metrics.ttsSegments.inc({ outcome: 'failed' });
      await deps.bus.publish(d.notify, { type: 'tts_failed', callId: d.callControlId, turnId: d.turnId, index: d.index, error: errorMessage(err) });
      return 'failed';
    }
  };
}
