import { Queue, type DefaultJobOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { withTimeout } from '../lib/with-timeout';
import { ALL_QUEUE_KEYS, QUEUE_NAMES, type QueueKey } from './queue-names';

/**
 * Finished jobs are trimmed so Redis memory stays flat: keep an hour / 1000 completed jobs for
 * bull-board, a day / 5000 failed jobs for post-mortems.
 */
export const DEFAULT_JOB_OPTIONS: DefaultJobOptions = {
  removeOnComplete: { age: 3600, count: 1000 },
  removeOnFail: { age: 24 * 3600, count: 5000 },
};

export type Queues = Readonly<Record<QueueKey, Queue>>;

export function createQueues(connection: Redis, prefix: string): Queues {
  const queues = {} as Record<QueueKey, Queue>;
  for (const key of ALL_QUEUE_KEYS) {
    queues[key] = new Queue(QUEUE_NAMES[key], { connection, prefix, defaultJobOptions: DEFAULT_JOB_OPTIONS });
    // Errors surface through the connection's own logger; an unhandled 'error' event would crash.
    queues[key].on('error', () => undefined);
  }
  return Object.freeze(queues);
}

/** Closes every queue; gives up after `timeoutMs` (Redis unreachable) so shutdown stays bounded. */
export async function closeQueues(queues: Queues, timeoutMs = 2000): Promise<void> {
  await withTimeout(Promise.allSettled(Object.values(queues).map((q) => q.close())), timeoutMs, () => undefined);
}
