/**
 * How long each Call Control command is retried: the per-action deadline, the backoff under it,
 * and the order wait that must outlast any predecessor's retries. Pure; no clock, no Redis.
 */
import { ACTIONS } from '../../src/lib/telnyx/call-control-client';
import { ANSWER_DEADLINE_MS, deadlineAt, LONGEST_DEADLINE_MS, nextRetry, RETRY_BUDGETS } from '../../src/jobs/call-control/command-deadlines';
import { COMMAND_MAX_ATTEMPTS, COMMAND_ORDER_MAX_WAIT_MS } from '../../src/jobs/call-control/command-job';

const T0 = 1_700_000_000_000;

describe('command deadlines', () => {
  it('gives every action a budget, the answer as long as a leg may ring and the hangup minutes', () => {
    for (const a of ACTIONS) expect(RETRY_BUDGETS[a].deadlineMs).toBeGreaterThan(0);
    expect(RETRY_BUDGETS.answer.deadlineMs).toBe(ANSWER_DEADLINE_MS);
    expect(ANSWER_DEADLINE_MS).toBe(120_000);
    expect(RETRY_BUDGETS.hangup.deadlineMs).toBeGreaterThanOrEqual(120_000);
    // A turn's playback is worth seconds, not the minutes a hangup is.
    expect(RETRY_BUDGETS.playback_start.deadlineMs).toBeLessThanOrEqual(10_000);
    expect(RETRY_BUDGETS.speak.deadlineMs).toBeLessThanOrEqual(10_000);
  });

  it('counts the deadline from when the command was due; a caller budget only shortens it', () => {
    expect(deadlineAt('answer', T0)).toBe(T0 + 120_000);
    expect(deadlineAt('playback_start', T0, 4_000)).toBe(T0 + 4_000);
    expect(deadlineAt('playback_start', T0, 60_000)).toBe(T0 + RETRY_BUDGETS.playback_start.deadlineMs);
    // Job data is editable in the admin UI: garbage falls back to the action's own budget.
    for (const bad of ['9e9', Number.NaN, Number.POSITIVE_INFINITY, null, {}]) expect(deadlineAt('hangup', T0, bad)).toBe(T0 + RETRY_BUDGETS.hangup.deadlineMs);
    expect(deadlineAt('hangup', T0, -5)).toBe(T0);
  });

  it('retries a retryable failure with capped exponential backoff, never past the deadline', () => {
    const deadline = deadlineAt('answer', T0);
    const at = (failures: number, now = T0) => nextRetry({ action: 'answer', retryable: true, failures, now, deadlineAt: deadline, random: () => 1 });
    expect(at(1)).toEqual({ retry: true, delayMs: 200 });
    expect(at(2)).toEqual({ retry: true, delayMs: 400 });
    expect(at(4)).toEqual({ retry: true, delayMs: 1600 });
    expect(at(5)).toEqual({ retry: true, delayMs: RETRY_BUDGETS.answer.backoffCapMs });
    expect(at(500)).toEqual({ retry: true, delayMs: RETRY_BUDGETS.answer.backoffCapMs });
    // Near the deadline the last attempt is brought forward to it, then no more.
    expect(at(50, deadline - 300)).toEqual({ retry: true, delayMs: 300 });
    expect(at(50, deadline)).toEqual({ retry: false, reason: 'deadline' });
    expect(at(50, deadline + 1)).toEqual({ retry: false, reason: 'deadline' });
  });

  it('jitters uniformly under the cap so calls retrying after one outage spread out', () => {
    const delays = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const d = nextRetry({ action: 'hangup', retryable: true, failures: 20, now: T0, deadlineAt: T0 + 300_000 });
      if (!d.retry) throw new Error('expected a retry');
      expect(d.delayMs).toBeGreaterThanOrEqual(0);
      expect(d.delayMs).toBeLessThanOrEqual(RETRY_BUDGETS.hangup.backoffCapMs);
      delays.add(d.delayMs);
    }
    expect(delays.size).toBeGreaterThan(50);
  });

  it('honours Retry-After as a floor, but not past the deadline', () => {
    const d = nextRetry({ action: 'answer', retryable: true, failures: 1, now: T0, deadlineAt: T0 + 120_000, retryAfterMs: 5_000, random: () => 0 });
    expect(d).toEqual({ retry: true, delayMs: 5_000 });
    const late = nextRetry({ action: 'answer', retryable: true, failures: 1, now: T0, deadlineAt: T0 + 2_000, retryAfterMs: 5_000, random: () => 0 });
    expect(late).toEqual({ retry: true, delayMs: 2_000 });
  });

  it('treats a damaged (NaN) deadline as passed rather than retrying without end', () => {
    expect(nextRetry({ action: 'answer', retryable: true, failures: 1, now: T0, deadlineAt: Number.NaN })).toEqual({ retry: false, reason: 'deadline' });
  });

  it('gives up at once on a failure that cannot heal (4xx other than 408/429)', () => {
    expect(nextRetry({ action: 'hangup', retryable: false, failures: 1, now: T0, deadlineAt: T0 + 300_000 })).toEqual({ retry: false, reason: 'not_retryable' });
  });

  it('lets a command wait for its predecessor at least as long as any predecessor may retry', () => {
    expect(LONGEST_DEADLINE_MS).toBe(Math.max(...ACTIONS.map((a) => RETRY_BUDGETS[a].deadlineMs)));
    expect(COMMAND_ORDER_MAX_WAIT_MS).toBeGreaterThan(LONGEST_DEADLINE_MS);
  });

  it('keeps the attempt ceiling above what any deadline can use at the smallest typical backoff', () => {
    // At half the cap on average, the deadline ends the retries long before the ceiling does.
    for (const a of ACTIONS) {
      const b = RETRY_BUDGETS[a];
      expect(COMMAND_MAX_ATTEMPTS).toBeGreaterThan((4 * b.deadlineMs) / b.backoffCapMs);
    }
  });
});
