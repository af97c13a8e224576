import type { Job } from 'bullmq';
import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import type { CallOrder } from '../../lib/ordering/call-order';
import type { EventJobData } from './event-job';

/** An event waits at most this long for its call's previous event (a few retries of it). */
export const EVENT_ORDER_MAX_WAIT_MS = 10_000;

export interface EventHandler {
  handle(event: EventJobData['event']): Promise<void>;
}

/**
 * Processes persisted webhook events one call at a time, in arrival order, across every instance:
 * waits for the previous event of the call, runs the handler, marks the event done. A handler
 * error is retried by BullMQ without releasing the order; after the last attempt the order moves
 * on so one poisoned event cannot stall the call.
 */
export function createEventProcessor(deps: { order: CallOrder; handler: EventHandler; metrics: Metrics; logger: Logger }) {
  return async (job: Job<EventJobData>): Promise<void> => {
    const { event, seq } = job.data;
    const callId = event.payload.call_control_id!;
    if (!(await deps.order.waitTurn('ev', callId, seq, EVENT_ORDER_MAX_WAIT_MS))) {
      deps.logger.warn({ callControlId: callId, seq, eventType: event.event_type }, 'previous event of the call did not finish in time; processing out of order');
    }
    try {
      await deps.handler.handle(event);
    } catch (err) {
      if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) {
        await deps.order.complete('ev', callId, seq);
        deps.metrics.jobsProcessed.inc({ queue: 'telnyx-events', outcome: 'failed' });
      }
      throw err;
    }
    await deps.order.complete('ev', callId, seq);
    deps.metrics.jobsProcessed.inc({ queue: 'telnyx-events', outcome: 'processed' });
  };
}
