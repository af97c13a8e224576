/**
 * How long each Call Control command is worth retrying. Pure: no clock, no I/O.
 *
 * A command is retried (same command_id, capped exponential backoff with full jitter) until its
 * deadline, measured from when it was due (issuedAt + its delay); a fixed attempt count would
 * give up on an answer after a few seconds of Telnyx trouble while the caller is still hearing it
 * ring. The deadline is what the command is for:
 *
 * - answer: as long as the caller may still be ringing. Telnyx documents no limit for an unanswered
 *   inbound call; the longest it lets a leg ring elsewhere is 120 s (`timeout_secs` of transfer,
 *   5..120). A caller hangs up long before that, and their `call.hangup` webhook ends the retries
 *   at once (the call is ended, so the next attempt is skipped). The backoff cap is short: every
 *   second of delay after Telnyx recovers is a second more of ringing.
 * - hangup: minutes. A call we meant to end keeps running (and billing) until Telnyx hears it.
 * - playback, speak, DTMF, gather: a few seconds. Past that the turn they belong to is over
 *   (the voice moved on after the segment's length plus a grace, the caller spoke again), and
 *   a late prompt would talk over what comes next. A caller of the producer may pass a shorter
 *   budget (the segment's own length).
 * - streaming_start/stop, transfer, recording: while the call may still want them (tens of s).
 */
import { computeBackoffMs, type Action } from '../../lib/telnyx/call-control-client';

export interface RetryBudget {
  /** ms after the command was due; no attempt starts after it. */
  deadlineMs: number;
  /** Cap of the exponential backoff between attempts (ms). */
  backoffCapMs: number;
}

/** First retry's backoff cap; doubles per attempt up to the action's cap. */
export const COMMAND_BACKOFF_BASE_MS = 200;

/** The longest Telnyx lets a leg ring (transfer `timeout_secs` maximum); the caller's hangup ends it sooner. */
export const ANSWER_DEADLINE_MS = 120_000;

export type Budgets = Readonly<Record<Action, RetryBudget>>;

export const RETRY_BUDGETS: Budgets = {
  answer: { deadlineMs: ANSWER_DEADLINE_MS, backoffCapMs: 2_000 },
  hangup: { deadlineMs: 300_000, backoffCapMs: 10_000 },
  playback_start: { deadlineMs: 10_000, backoffCapMs: 1_000 },
  playback_stop: { deadlineMs: 5_000, backoffCapMs: 1_000 },
  speak: { deadlineMs: 10_000, backoffCapMs: 1_000 },
  send_dtmf: { deadlineMs: 10_000, backoffCapMs: 1_000 },
  gather: { deadlineMs: 10_000, backoffCapMs: 1_000 },
  streaming_start: { deadlineMs: 30_000, backoffCapMs: 2_000 },
  streaming_stop: { deadlineMs: 30_000, backoffCapMs: 2_000 },
  transfer: { deadlineMs: 30_000, backoffCapMs: 2_000 },
  record_start: { deadlineMs: 30_000, backoffCapMs: 5_000 },
  record_stop: { deadlineMs: 60_000, backoffCapMs: 5_000 },
};

/** The longest deadline of any action: how long a command may have to wait for its predecessor. */
export const LONGEST_DEADLINE_MS = Math.max(...Object.values(RETRY_BUDGETS).map((b) => b.deadlineMs));

/**
 * When the command stops being retried (ms epoch). `budgetMs` (a caller's own, shorter budget,
 * e.g. a segment's length) may only shorten the action's deadline: job data can be edited in the
 * admin UI, and a garbage value must neither throw nor retry forever.
 */
export function deadlineAt(action: Action, dueAt: number, budgetMs?: unknown, budgets: Budgets = RETRY_BUDGETS): number {
  const own = budgets[action].deadlineMs;
  const asked = typeof budgetMs === 'number' && Number.isFinite(budgetMs) ? Math.max(0, budgetMs) : own;
  return dueAt + Math.min(own, asked);
}

export type RetryDecision = { retry: true; delayMs: number } | { retry: false; reason: 'not_retryable' | 'deadline' };

/**
 * After a failed attempt: retry, and after how long, or give up. The delay is the action's
 * backoff (with a server's Retry-After as a floor) but never past the deadline, so the last
 * attempt runs at the deadline rather than not at all.
 */
export function nextRetry(opts: {
  action: Action;
  retryable: boolean;
  /** Failed attempts so far, this one included (1 after the first failure). */
  failures: number;
  now: number;
  deadlineAt: number;
  retryAfterMs?: number;
  random?: () => number;
  budgets?: Budgets;
}): RetryDecision {
  if (!opts.retryable) return { retry: false, reason: 'not_retryable' };
  const left = opts.deadlineAt - opts.now;
  // NaN (a damaged deadline) counts as passed: never a retry without an end.
  if (!(left > 0)) return { retry: false, reason: 'deadline' };
  const cap = (opts.budgets ?? RETRY_BUDGETS)[opts.action].backoffCapMs;
  const delay = computeBackoffMs(opts.failures, COMMAND_BACKOFF_BASE_MS, cap, opts.retryAfterMs, opts.random);
  return { retry: true, delayMs: Math.min(delay, left) };
}
