import type { Queues } from './queues';

export const AUDIO_CLEANUP_SCHEDULER_ID = 'audio-cleanup';
export const AUDIO_CLEANUP_JOB = 'audio-cleanup';
/** Hourly: audio files live AUDIO_CLEANUP_HOURS (>= 1 h), so an hourly sweep bounds overshoot to 1 h. */
export const AUDIO_CLEANUP_EVERY_MS = 3_600_000;

/** Idempotent: every instance may call it at boot; BullMQ keeps exactly one scheduler per id. */
export async function scheduleAudioCleanup(queues: Queues, everyMs: number = AUDIO_CLEANUP_EVERY_MS): Promise<void> {
  await queues.maintenance.upsertJobScheduler(
    AUDIO_CLEANUP_SCHEDULER_ID,
    { every: everyMs },
    { name: AUDIO_CLEANUP_JOB, data: {}, opts: { removeOnComplete: { count: 24 }, removeOnFail: { count: 100 } } },
  );
}
