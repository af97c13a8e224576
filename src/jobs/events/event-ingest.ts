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
/** Most events persisted in one batch (two Redis round trips); more in one turn form further batches. */
export const MAX_BATCH = 256;

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

interface Pending {
  event: TelnyxEvent;
  callId: string;
  resolve(outcome: IngestOutcome): void;
  reject(err: unknown): void;
}

const unavailable = (cause: unknown) =>
  new AppError('event_store_unavailable', 'could not persist the event; retry later', { status: 503, retryable: true, cause });

/**
 * Persists a verified webhook event as a BullMQ job BEFORE the webhook is acknowledged, so a crash
 * after the 200 loses nothing; a redelivery of the same data.id is admitted once.
 *
 * Events arriving in one event-loop turn are persisted together: one script run admits them all (dedupe
 * and per-call sequence numbers, in arrival order), one addBulk pipeline stores the admitted ones. Each
 * caller still learns its own event's fate, and only after the batch's Redis reply.
 */
export class EventIngest {
  private pending: Pending[] = [];
  private scheduled = false;

  constructor(
    private readonly queue: Queue<EventJobData>,
    private readonly order: CallOrder,
    private readonly opts: EventIngestOptions,
  ) {}

  accept(event: TelnyxEvent): Promise<IngestOutcome> {
    const callId = event.payload.call_control_id;
    if (!HANDLED_EVENTS.has(event.event_type) || !callId) return Promise.resolve('ignored');
    return new Promise<IngestOutcome>((resolve, reject) => {
      this.pending.push({ event, callId, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // After this turn's I/O callbacks: every webhook read in this turn joins the batch.
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const all = this.pending;
    this.pending = [];
    for (let i = 0; i < all.length; i += MAX_BATCH) void this.persist(all.slice(i, i + MAX_BATCH));
  }

  private async persist(batch: Pending[]): Promise<void> {
    let seqs: (number | Error)[];
    try {
      seqs = await this.order.admitEvents(batch.map((p) => ({ eventId: p.event.id, callId: p.callId })));
    } catch (err) {
      for (const p of batch) p.reject(unavailable(err));
      return;
    }
    const admitted: { p: Pending; seq: number }[] = [];
    batch.forEach((p, i) => {
      const seq = seqs[i];
      if (seq instanceof Error || seq === undefined) p.reject(unavailable(seq));
      else if (seq === 0) p.resolve('duplicate');
      else admitted.push({ p, seq });
    });
    if (admitted.length === 0) return;
    const receivedAt = Date.now();
    try {
      const add = this.queue.addBulk(
        admitted.map(({ p, seq }) => ({
          name: p.event.event_type,
          data: { event: p.event, seq, receivedAt },
          opts: { jobId: eventJobId(p.event.id), attempts: EVENT_ATTEMPTS, backoff: { type: 'exponential', delay: 100 } },
        })),
      );
      // A timed-out add may still complete once Redis is back: the job id makes the redelivery's add a no-op then.
      add.catch(() => undefined);
      await withTimeout(add, this.opts.persistTimeoutMs, 'event persist');
    } catch (err) {
      // Not known to be persisted: forget the ids so Telnyx's redeliveries (after our 503) are admitted.
      await this.order.forgetEvents(admitted.map(({ p }) => p.event.id)).catch(() => undefined);
      for (const { p } of admitted) p.reject(unavailable(err));
      return;
    }
    for (const { p } of admitted) p.resolve('accepted');
  }
}
