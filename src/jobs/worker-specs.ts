import type { Job } from 'bullmq';
import type { Logger } from '../lib/logger';
import { cleanupAudioDir } from './maintenance/audio-cleanup';
import { AUDIO_CLEANUP_JOB } from './schedulers';
import type { QueueKey } from './queue-names';
import type { WorkerSpec } from './workers';
import { MAX_DURATION_JOB, type CallFlow } from './calls/call-flow';
import { commandBackoff } from './call-control/command-processor';
import { PROMPT_JOB } from './tts/prompt-job';
import { SEGMENT_JOB } from './tts/segment-job';

export interface WorkerSpecDeps {
  logger: Logger;
  audioDir: string;
  audioMaxAgeMs: number;
  callFlow: CallFlow;
  eventProcessor: (job: Job) => Promise<unknown>;
  commandProcessor: (job: Job) => Promise<unknown>;
  promptProcessor: (job: Job) => Promise<unknown>;
  segmentProcessor: (job: Job) => Promise<unknown>;
}

/**
 * Concurrency per process. Events and commands are short network-bound jobs (a few Redis round
 * trips or one HTTPS request), so many run at once; TTS is bounded by the speech server.
 */
export const CONCURRENCY = { events: 64, callControl: 64, tts: 16, maintenance: 4 } as const;

export function buildWorkerSpecs(d: WorkerSpecDeps): Partial<Record<QueueKey, WorkerSpec>> {
  return {
    events: { concurrency: CONCURRENCY.events, processor: d.eventProcessor },
    callControl: { concurrency: CONCURRENCY.callControl, processor: d.commandProcessor, backoffStrategy: commandBackoff },
    tts: {
      concurrency: CONCURRENCY.tts,
      processor: async (job) => {
        if (job.name === SEGMENT_JOB) return d.segmentProcessor(job);
        if (job.name === PROMPT_JOB) return d.promptProcessor(job);
        throw new Error(`unknown tts job ${job.name}`);
      },
    },
    maintenance: {
      concurrency: CONCURRENCY.maintenance,
      processor: async (job) => {
        switch (job.name) {
          case AUDIO_CLEANUP_JOB: {
            const result = await cleanupAudioDir(d.audioDir, d.audioMaxAgeMs);
            d.logger.info({ ...result, dir: d.audioDir }, 'audio cleanup done');
            return result;
          }
          case MAX_DURATION_JOB:
            return d.callFlow.onMaxDuration((job.data as { callControlId: string }).callControlId);
          default:
            throw new Error(`unknown maintenance job ${job.name}`);
        }
      },
    },
  };
}
