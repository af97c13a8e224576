import { DelayedError, UnrecoverableError, type Job, type MinimalJob } from 'bullmq';
import type { CallStore } from '../../lib/calls/call-store';
import { errorMessage, isRetryable } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import type { CallOrder } from '../../lib/ordering/call-order';
import { isAction, TelnyxCommandError, type Action, type CallControlClient } from '../../lib/telnyx/call-control-client';
import { deadlineAt, nextRetry, RETRY_BUDGETS, type Budgets } from './command-deadlines';
import {
  COMMAND_ORDER_MAX_WAIT_MS,
  COMMAND_ORDER_POLL_MS,
  COMMAND_ORDER_RECHECK_MS,
  orderedCommandJobId,
  PENDING_JOB_STATES,
  type CommandJobData,
} from './command-job';

export interface CommandProcessorDeps {
  client: CallControlClient;
  order: CallOrder;
  calls: CallStore;
  metrics: Metrics;
  logger: Logger;
  /** Told when a command failed for good (an answer: the call is cleaned up; a transfer: the caller hears so). */
  onPermanentFailure?: (callControlId: string, action: string, err: unknown) => Promise<void>;
  /** State of a job of the queue ('unknown' when there is none): tells a pending predecessor from a lost one. */
  jobState?: (jobId: string) => Promise<string>;
  /** Retry budgets per action (command-deadlines.ts); tests shorten them. */
  budgets?: Budgets;
  now?: () => number;
}

/** Commands still worth sending after the call ended: none but hangup (harmless: 90018 = done). */
const RUN_AFTER_END = new Set(['hangup']);

/** A failed attempt to be retried after `delayMs` (read by commandBackoff); the cause is the Telnyx error. */
export class CommandRetry extends Error {
  constructor(
    readonly delayMs: number,
    cause: unknown,
  ) {
    super(errorMessage(cause), { cause });
    this.name = 'CommandRetry';
  }
}

/**
 * Runs one Call Control command: waits for the call's previous command, skips commands of an
 * ended call (that is how pending commands are cancelled at hangup), sends, and classifies the
 * outcome. A retryable failure is retried (BullMQ, same job data, hence the same command_id)
 * until the command's deadline; a permanent one, or the deadline, releases the call's command
 * order and fails the job for good.
 */
export function createCommandProcessor(deps: CommandProcessorDeps) {
  const budgets = deps.budgets ?? RETRY_BUDGETS;
  const now = deps.now ?? Date.now;
  const run = async (job: Job<CommandJobData>, token?: string): Promise<string> => {
    const { callControlId, action, body, seq, issuedAt } = job.data;
    if (seq > 0 && !(await deps.order.waitTurn('cmd', callControlId, seq, COMMAND_ORDER_POLL_MS))) {
      // The predecessor is still at it (retrying through an outage, say): step aside rather than
      // hold a worker slot, and look again shortly. It has until its own deadline; past ours, or
      // when its job does not exist (never enqueued, or ended without releasing its place), it is lost.
      const predecessor = deps.jobState ? await deps.jobState(orderedCommandJobId(callControlId, seq - 1)) : 'pending';
      if ((predecessor === 'pending' || PENDING_JOB_STATES.has(predecessor)) && token && now() < issuedAt + COMMAND_ORDER_MAX_WAIT_MS) {
        await job.moveToDelayed(now() + COMMAND_ORDER_RECHECK_MS, token);
        throw new DelayedError();
      }
      deps.logger.warn({ callControlId, action, seq, predecessor }, 'previous command did not finish in time; sending out of order');
    }
    const finish = async () => {
      if (seq > 0) await deps.order.complete('cmd', callControlId, seq);
    };
    if (!isAction(action)) {
      // Job data lives in Redis and can be edited from the admin UI: never turn it into an arbitrary API path.
      deps.metrics.jobsProcessed.inc({ queue: 'call-control', outcome: 'invalid' });
      deps.logger.warn({ callControlId, action: String(action).slice(0, 64) }, 'command refused: unknown action');
      await finish();
      throw new UnrecoverableError('unknown Call Control action');
    }
    if (!RUN_AFTER_END.has(action) && (await deps.calls.isEnded(callControlId))) {
      await finish();
      deps.metrics.jobsProcessed.inc({ queue: 'call-control', outcome: 'skipped_call_ended' });
      return 'skipped_call_ended';
    }
    // Job data is editable in the admin UI: a damaged issuedAt counts from now.
    const issued = Number.isFinite(Number(issuedAt)) ? Number(issuedAt) : now();
    const deadline = deadlineAt(action, issued + (job.opts.delay ?? 0), job.data.budgetMs, budgets);
    const end = deps.metrics.callControlDuration.startTimer({ action });
    try {
      const result = await deps.client.send(callControlId, action, body);
      end({ outcome: result.status });
      await finish();
      if (job.attemptsMade > 0) deps.logger.info({ callControlId, action, attempts: job.attemptsMade + 1 }, 'command succeeded after retry');
      return result.status;
    } catch (err) {
      end({ outcome: 'error' });
      const failures = job.attemptsMade + 1;
      const decision = nextRetry({
        action,
        retryable: isRetryable(err),
        failures,
        now: now(),
        deadlineAt: deadline,
        retryAfterMs: err instanceof TelnyxCommandError ? err.retryAfterMs : undefined,
        budgets,
      });
      if (decision.retry && failures < (job.opts.attempts ?? 1)) {
        deps.metrics.callControlRetries.inc({ action });
        deps.logger.warn({ callControlId, action, attempt: failures, retryInMs: decision.delayMs, err: errorMessage(err) }, 'command failed; will retry');
        throw new CommandRetry(decision.delayMs, err);
      }
      return giveUp(deps, job.data, action, failures, err, finish);
    }
  };
  return async (job: Job<CommandJobData>, token?: string): Promise<string> => {
    try {
      return await run(job, token);
    } catch (err) {
      if (err instanceof CommandRetry || err instanceof DelayedError || err instanceof UnrecoverableError) throw err;
      // Anything else (Redis trouble around the send) gets a few tries, not the deadline's many.
      if (job.attemptsMade + 1 >= OTHER_ERROR_ATTEMPTS) throw new UnrecoverableError(errorMessage(err));
      throw err;
    }
  };
}

/** Tries for a failure that is not a failed send (e.g. Redis unreachable while checking the order). */
const OTHER_ERROR_ATTEMPTS = 6;

async function giveUp(deps: CommandProcessorDeps, data: CommandJobData, action: Action, attempts: number, err: unknown, finish: () => Promise<void>): Promise<never> {
  await finish();
  const reason = err instanceof TelnyxCommandError ? err.code : 'error';
  deps.metrics.callControlFailures.inc({ action, reason });
  deps.logger.error({ callControlId: data.callControlId, action, attempts, err: errorMessage(err) }, 'command failed for good');
  await deps.onPermanentFailure?.(data.callControlId, action, err).catch((e: unknown) => {
    deps.logger.error({ callControlId: data.callControlId, action, err: errorMessage(e) }, 'cleanup after a failed command failed');
  });
  throw new UnrecoverableError(`${action} failed: ${errorMessage(err)}`);
}

/**
 * BullMQ backoff strategy for commands: the delay the processor chose (backoff, Retry-After
 * floor, never past the deadline). Anything else (a bug thrown from the processor) gets a second.
 */
export function commandBackoff(_attemptsMade: number, _type: string | undefined, err: Error | undefined, _job?: MinimalJob): number {
  return err instanceof CommandRetry ? err.delayMs : 1_000;
}
