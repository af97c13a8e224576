import { createHash } from 'node:crypto';
import type { Queue } from 'bullmq';
import { AppError } from '../../lib/errors';
import { withTimeout } from '../../lib/with-timeout';
import type { CallOrder } from '../../lib/ordering/call-order';
import type { TelnyxEvent } from '../../lib/telnyx/webhook-event';
import { HANDLED_EVENTS, type EventJobData } from './event-job';

export type IngestOutcome = 'accepted' | 'duplicate' | 'ignored';

/** Attempts for processing one event (processing is Redis work + enqueueing commands). */
export const EVENT_ATTEMPTS = 5;

/** BullMQ job ids cannot contain ':' (and Telnyx ids are opaque), so the id is a hash of data.id. */
export function eventJobId(eventId: string): string {
  return `ev-${createHash('sha256').update(eventId).digest('hex').slice(0, 40)}`;
}

export interface EventIngestOptions {
  /**
   * Longest wait for the queue to take the event. The queue connection waits for Redis forever (BullMQ
   * needs that), so while Redis is down or failing over the webhook gets a 503 after this instead of
   * hanging; Telnyx redelivers it.
   */
  persistTimeoutMs: number;
}

/**
 * Persists a verified webhook event as a BullMQ job BEFORE the webhook is acknowledged, so a crash
 * after the 200 loses nothing; a redelivery of the same data.id is admitted once.
 */
export class EventIngest {
  constructor(
    private readonly queue: Queue<EventJobData>,
    private readonly order: CallOrder,
    private readonly opts: EventIngestOptions,
  ) {}

  async accept(event: TelnyxEvent): Promise<IngestOutcome> {
    const callId = event.payload.call_control_id;
    if (!HANDLED_EVENTS.has(event.event_type) || !callId) return 'ignored';
    let seq: number;
    try {
      seq = await this.order.admitEvent(event.id, callId);
    } catch (err) {
      throw new AppError('event_store_unavailable', 'could not persist the event; retry later', { status: 503, retryable: true, cause: err });
    }
    if (seq === 0) return 'duplicate';
    try {
      const add = this.queue.add(event.event_type, { event, seq, receivedAt: Date.now() }, {
        jobId: eventJobId(event.id),
        attempts: EVENT_ATTEMPTS,
        backoff: { type: 'exponential', delay: 100 },
      });
      // A timed-out add may still complete once Redis is back: the job id makes the redelivery's add a no-op then.
      add.catch(() => undefined);
      await withTimeout(add, this.opts.persistTimeoutMs, 'event persist');
    } catch (err) {
      // Not known to be persisted: forget the id so Telnyx's redelivery (after our 503) is admitted.
      await this.order.forgetEvent(event.id).catch(() => undefined);
      throw new AppError('event_store_unavailable', 'could not persist the event; retry later', { status: 503, retryable: true, cause: err });
    }
    return 'accepted';
  }
}
