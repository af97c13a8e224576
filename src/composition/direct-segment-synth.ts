import { errorMessage, isRetryable } from '../lib/errors';
import type { Metrics } from '../lib/metrics';
import type { Limiter } from '../lib/limiter';
import { synthesizeSegment, type SynthesizeDeps } from '../lib/tts/synthesize';
import type { SegmentVoiceSettings } from '../jobs/tts/segment-requester';
import type { SegmentSynth } from '../media/conversation/conversation';

type Delivery = { fileName: string; durationMs: number; sampleRate: number; samples: Int16Array } | { error: string };

/**
 * Stream mode: reply segments are synthesized in the process that holds the call's media socket
 * and handed straight to the playout. bench:turn measured the queue path (BullMQ add + worker
 * pickup + file write/read + pub/sub) at ~25 ms p50 and > 100 ms p95 of the 40 ms turn budget.
 * Caching, retry-once and bounded concurrency (a shared limiter) are kept; url mode still uses
 * the `tts` queue, because Telnyx fetches the file anyway.
 */
export function directSegmentSynth(opts: {
  callControlId: string;
  tts: SegmentVoiceSettings;
  synth: SynthesizeDeps;
  limiter: Limiter;
  metrics: Metrics;
  deliver(callId: string, turnId: number, index: number, result: Delivery): void;
}): SegmentSynth {
  const inFlight = new Map<string, AbortController>();
  let seq = 0;
  return {
    async request(turnId, index, text) {
      const id = `direct-${(seq += 1)}`;
      const ac = new AbortController();
      inFlight.set(id, ac);
      const run = () =>
        opts.limiter.run(() => synthesizeSegment(opts.synth, { ...opts.tts, url: opts.tts.kokoroUrl, text, signal: ac.signal }), ac.signal);
      void (async () => {
        try {
          let seg;
          try {
            seg = await run();
          } catch (err) {
            if (!isRetryable(err) || ac.signal.aborted) throw err;
            seg = await run(); // "retry once"
          }
          opts.metrics.ttsSegments.inc({ outcome: seg.cached ? 'cache_hit' : 'synthesized' });
          opts.deliver(opts.callControlId, turnId, index, seg);
        } catch (err) {
          if (ac.signal.aborted) return;
          opts.metrics.ttsSegments.inc({ outcome: 'failed' });
          opts.deliver(opts.callControlId, turnId, index, { error: errorMessage(err) });
        } finally {
          inFlight.delete(id);
        }
      })();
      return id;
    },
    async cancel(ids) {
      for (const id of ids) inFlight.get(id)?.abort();
    },
  };
}
