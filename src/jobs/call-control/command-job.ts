import { callJobId } from '../call-job-id';
import { LONGEST_DEADLINE_MS } from './command-deadlines';

/** A Call Control command as persisted on the `call-control` queue. */
export interface CommandJobData {
  callControlId: string;
  action: string;
  /** Request body; always carries the `command_id` reused on every retry (Telnyx dedupes on it). */
  body: Record<string, unknown> & { command_id: string };
  /** Position in the call's command order. */
  seq: number;
  /** ms epoch when the command was issued; its retry deadline counts from then (plus its delay). */
  issuedAt: number;
  /** A budget shorter than the action's own (command-deadlines.ts), e.g. a segment's length. */
  budgetMs?: number;
}

/**
 * A safety ceiling only: retries stop at the command's deadline (command-deadlines.ts), long
 * before this many attempts (answer, 120 s at ≤ 2 s apart, is about a hundred).
 */
export const COMMAND_MAX_ATTEMPTS = 1000;
export const COMMAND_BACKOFF_TYPE = 'telnyx';
/**
 * A command waits for its predecessor while that one may still be retrying (its job is still
 * pending): up to the longest deadline of any action, plus the last attempt's request time and
 * queue latency, counted from its own issue (a predecessor was issued earlier, so its deadline
 * has passed by then). Waits longer than a moment are spent as a delayed job, not in a worker slot.
 */
export const COMMAND_ORDER_MAX_WAIT_MS = LONGEST_DEADLINE_MS + 30_000;
/** In-process wait for the predecessor before the job steps aside (the usual case: a few ms). */
export const COMMAND_ORDER_POLL_MS = 1_000;
/** How often a command that stepped aside looks again. */
export const COMMAND_ORDER_RECHECK_MS = 500;

/**
 * Job id of the command at place `seq` of a call's order, so its successor can tell a predecessor
 * still queued or retrying from one that was never enqueued (a crash between taking the place and
 * enqueueing) and need not wait for the latter.
 */
export function orderedCommandJobId(callControlId: string, seq: number): string {
  return callJobId(`cmd${seq}`, callControlId);
}

/** BullMQ job states in which a command may still run. */
export const PENDING_JOB_STATES: ReadonlySet<string> = new Set(['waiting', 'delayed', 'active', 'prioritized', 'waiting-children']);
