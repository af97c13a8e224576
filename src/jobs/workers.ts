import { UnrecoverableError, Worker, type Job, type MinimalJob, type Processor } from 'bullmq';
import type { Redis } from 'ioredis';
import { AppError, errorMessage, isRetryable } from '../lib/errors';
import type { Logger } from '../lib/logger';
import { withTimeout } from '../lib/with-timeout';
import { QUEUE_NAMES, type QueueKey } from './queue-names';

export interface WorkerSpec {
  processor: Processor;
  /** Parallel jobs per process for this queue. */
  concurrency: number;
  /** Custom backoff (used by jobs added with `backoff: { type: <custom> }`). */
  backoffStrategy?: (attemptsMade: number, type: string | undefined, err: Error | undefined, job?: MinimalJob) => number;
}

/**
 * The retry decision lives on the error: an AppError that is not retryable becomes an
 * UnrecoverableError so BullMQ fails the job at once instead of burning attempts.
 * Plain errors (bugs, network surprises) keep BullMQ's attempts/backoff.
 */
export function withRetryPolicy(processor: Processor): Processor {
  return async (job: Job, token?: string) => {
    try {
      return await processor(job, token);
    } catch (err) {
      if (err instanceof AppError && !isRetryable(err)) {
        const e = new UnrecoverableError(`${err.code}: ${err.message}`);
        throw e;
      }
      throw err;
    }
  };
}

export function startWorkers(
  connection: Redis,
  prefix: string,
  specs: Partial<Record<QueueKey, WorkerSpec>>,
  logger: Logger,
): Worker[] {
  const workers: Worker[] = [];
  for (const [key, spec] of Object.entries(specs) as [QueueKey, WorkerSpec][]) {
    const name = QUEUE_NAMES[key];
    const worker = new Worker(name, withRetryPolicy(spec.processor), {
      connection,
      prefix,
      concurrency: spec.concurrency,
      settings: spec.backoffStrategy ? { backoffStrategy: spec.backoffStrategy } : undefined,
      // Stalled-job detection lets another instance pick up the jobs of a crashed one.
      stalledInterval: 30_000,
      maxStalledCount: 2,
    });
    worker.on('failed', (job, err) => {
      logger.warn({ queue: name, jobId: job?.id, jobName: job?.name, attempts: job?.attemptsMade, err: errorMessage(err) }, 'job failed');
    });
    // Workers emit an error per reconnect attempt while Redis is down: log the first of each burst.
    let lastErrorAt = 0;
    worker.on('error', (err) => {
      const now = Date.now();
      if (now - lastErrorAt > 30_000) logger.warn({ queue: name, err: errorMessage(err) }, 'worker error');
      lastErrorAt = now;
    });
    workers.push(worker);
  }
  return workers;
}

/**
 * close() waits for active jobs to finish ("finish in-flight work"). With Redis unreachable nothing
 * can finish, so workers are force-closed at once; otherwise we wait at most `graceMs` and move on
 * (the Redis connections are then cut, and unfinished jobs are recovered by stalled-job checks on
 * another instance).
 */
export async function closeWorkers(workers: Worker[], redisReady: boolean, graceMs = 6000): Promise<void> {
  await withTimeout(Promise.allSettled(workers.map((w) => w.close(!redisReady))), graceMs, () => undefined);
}
