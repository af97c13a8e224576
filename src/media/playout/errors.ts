/** Typed playout errors (AppError: stable code, retryable on the error). */
import { AppError } from '../../lib/errors';

/**
 * enqueue() refused a segment: queued-but-unsent audio would exceed maxQueuedMs. Nothing was
 * queued or dropped. Retryable: the queue drains at real time (wait for segmentDone, then retry).
 */
export class PlayoutQueueFullError extends AppError {
  constructor(details: { segmentId: string; queuedMs: number; segmentMs: number; maxQueuedMs: number }) {
    super(
      'playout_queue_full',
      `playout queue full: ${Math.round(details.queuedMs)} ms queued + ${Math.round(details.segmentMs)} ms > ${details.maxQueuedMs} ms`,
      { status: 503, retryable: true, details },
    );
  }
}

/** enqueue() after close(). */
export class PlayoutClosedError extends AppError {
  constructor() {
    super('playout_closed', 'playout is closed');
  }
}

/** A bad option or segment (programming error, never retryable). */
export class PlayoutUsageError extends AppError {
  constructor(message: string) {
    super('playout_bad_usage', message);
  }
}
