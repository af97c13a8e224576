import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { errorMessage } from '../lib/errors';
import { createRedis } from '../lib/redis';
import { createCallControlClient, type CallControlClient } from '../lib/telnyx/call-control-client';
import { createKokoroClient } from '../lib/tts/kokoro-client';
import type { Budgets } from '../jobs/call-control/command-deadlines';
import { createCommandProcessor } from '../jobs/call-control/command-processor';
import { CallFlow } from '../jobs/calls/call-flow';
import { PromptSpeaker } from '../jobs/calls/prompt-speaker';
import { createEventProcessor } from '../jobs/events/event-processor';
import { createPromptProcessor } from '../jobs/tts/prompt-processor';
import { createSegmentProcessor } from '../jobs/tts/segment-processor';
import { synthesizeToFile } from '../lib/tts/synthesize';
import { buildWorkerSpecs } from '../jobs/worker-specs';
import { startWorkers } from '../jobs/workers';
import type { Shared } from './shared';

/** Cached TTS files are reused for 30 min; always well under AUDIO_CLEANUP_HOURS (>= 1 h). */
export const TTS_CACHE_TTL_SEC = 1800;

export interface WorkerSide {
  workers: Worker[];
  connection: Redis;
  telnyx: CallControlClient;
}

/** The queue workers of an instance (PROCESS_ROLE all|worker). */
export function startWorkerSide(s: Shared, opts: { commandBudgets?: Budgets } = {}): WorkerSide {
  const { config, logger, metrics } = s;
  const connection = createRedis(config.REDIS_URL, 'bullmq', logger, 'bullmq-worker');
  const telnyx = createCallControlClient({ baseUrl: config.TELNYX_API_BASE_URL, apiKey: config.TELNYX_API_KEY, timeoutMs: config.TELNYX_API_TIMEOUT_MS, logger });
  const tts = createKokoroClient({ timeoutMs: 15_000, lookup: s.tenantUrlLookup });
  const callFlow = new CallFlow({
    calls: s.calls,
    admission: s.admission,
    commands: s.commands,
    prompts: new PromptSpeaker(s.queues.tts, { kokoroUrl: config.KOKORO_URL, voice: config.KOKORO_VOICE, sampleRate: config.TTS_SAMPLE_RATE }),
    maintenance: s.queues.maintenance,
    stream: s.stream,
    maxCallDurationMs: config.MAX_CALL_DURATION_MS,
    instanceId: s.instanceId,
    bus: s.bus,
    metrics,
    logger,
  });
  const synthDeps = { tts, storageDir: config.AUDIO_STORAGE_DIR, redis: s.redis, cachePrefix: `${config.STATE_PREFIX}:tts`, cacheTtlSec: TTS_CACHE_TTL_SEC, logger };
  const synthesize = (req: Parameters<typeof synthesizeToFile>[1]) => synthesizeToFile(synthDeps, req);
  const workers = startWorkers(
    connection,
    config.QUEUE_PREFIX,
    buildWorkerSpecs({
      logger,
      audioDir: config.AUDIO_STORAGE_DIR,
      audioMaxAgeMs: config.AUDIO_CLEANUP_HOURS * 3_600_000,
      callFlow,
      eventProcessor: createEventProcessor({ order: s.order, handler: callFlow, metrics, logger }),
      commandProcessor: createCommandProcessor({
        client: telnyx,
        order: s.order,
        calls: s.calls,
        metrics,
        logger,
        budgets: opts.commandBudgets,
        jobState: (jobId) => s.queues.callControl.getJobState(jobId),
        onPermanentFailure: async (callId, action, err) => {
          await callFlow.onCommandFailed(callId, action);
          const call = await s.calls.get(callId);
          if (call?.mediaInstance) await s.bus.publish(call.mediaInstance, { type: 'command_failed', callId, action, error: errorMessage(err) });
        },
      }),
      promptProcessor: createPromptProcessor({ synthesize, commands: s.commands, audioPublicBaseUrl: config.AUDIO_PUBLIC_BASE_URL, metrics, logger }),
      segmentProcessor: createSegmentProcessor({ synthesize, bus: s.bus, metrics }),
    }),
    logger,
  );
  return { workers, connection, telnyx };
}
