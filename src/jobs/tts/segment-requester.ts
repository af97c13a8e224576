import type { Queue } from 'bullmq';
import { SEGMENT_ATTEMPTS, SEGMENT_JOB, type SegmentJobData } from './segment-job';

export interface SegmentVoiceSettings {
  kokoroUrl: string;
  voice: string;
  sampleRate: number;
  speed?: number;
}

/**
 * Queues the segments of one call's replies on the `tts` queue (the session's SegmentSynth).
 * High priority keeps reply segments ahead of background synthesis.
 */
export function segmentRequester(queue: Queue, callControlId: string, notify: string, tts: SegmentVoiceSettings) {
  return {
    async request(turnId: number, index: number, text: string): Promise<string | undefined> {
      const data: SegmentJobData = { callControlId, turnId, index, text, notify, ...tts };
      const job = await queue.add(SEGMENT_JOB, data, { attempts: SEGMENT_ATTEMPTS, backoff: { type: 'fixed', delay: 100 } });
      return job.id;
    },
    /** Barge-in: drop segments not yet synthesized (running ones finish; their result is ignored). */
    async cancel(jobIds: string[]): Promise<void> {
      await Promise.all(
        jobIds.map(async (id) => {
          const job = await queue.getJob(id);
          if (job && ((await job.isWaiting()) || (await job.isDelayed()))) await job.remove().catch(() => undefined);
        }),
      );
    },
  };
}
