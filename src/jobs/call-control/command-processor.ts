import { UnrecoverableError, type Job } from 'bullmq';
import type { CallStore } from '../../lib/calls/call-store';
import { errorMessage, isRetryable } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import type { CallOrder } from '../../lib/ordering/call-order';
import { computeBackoffMs, isAction, TelnyxCommandError, type CallControlClient } from '../../lib/telnyx/call-control-client';
import { COMMAND_BACKOFF_BASE_MS, COMMAND_BACKOFF_MAX_MS, COMMAND_ORDER_MAX_WAIT_MS, type CommandJobData } from './command-job';

export interface CommandProcessorDeps {
  client: CallControlClient;
  order: CallOrder;
  calls: CallStore;
  metrics: Metrics;
  logger: Logger;
  /** Told when a command failed for good (e.g. so the live session can announce a failed transfer). */
  onPermanentFailure?: (callControlId: string, action: string, err: unknown) => Promise<void>;
}

/** Commands still worth sending after the call ended: none but hangup (harmless: 90018 = done). */
const RUN_AFTER_END = new Set(['hangup']);

/**
 * Runs one Call Control command: waits for the call's previous command, skips commands of an
 * ended call (that is how pending commands are cancelled at hangup), sends, and classifies the
 * outcome. Retryable failures rethrow (BullMQ retries with the same job data, hence the same
 * command_id); permanent ones release the call's command order and fail the job for good.
 */
export function createCommandProcessor(deps: CommandProcessorDeps) {
  return async (job: Job<CommandJobData>): Promise<string> => {
    const { callControlId, action, body, seq } = job.data;
    const maxAttempts = job.opts.attempts ?? 1;
    if (seq > 0 && !(await deps.order.waitTurn('cmd', callControlId, seq, COMMAND_ORDER_MAX_WAIT_MS))) {
      deps.logger.warn({ callControlId, action, seq }, 'previous command did not finish in time; sending out of order');
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
    const end = deps.metrics.callControlDuration.startTimer({ action });
    try {
      const result = await deps.client.send(callControlId, action, body);
      end({ outcome: result.status });
      await finish();
      if (job.attemptsMade > 0) deps.logger.info({ callControlId, action, attempts: job.attemptsMade + 1 }, 'command succeeded after retry');
      return result.status;
    } catch (err) {
      end({ outcome: 'error' });
      const lastAttempt = job.attemptsMade + 1 >= maxAttempts;
      if (isRetryable(err) && !lastAttempt) {
        deps.metrics.callControlRetries.inc({ action });
        deps.logger.warn({ callControlId, action, attempt: job.attemptsMade + 1, err: errorMessage(err) }, 'command failed; will retry');
        throw err;
      }
      await finish();
      const reason = err instanceof TelnyxCommandError ? err.code : 'error';
      deps.metrics.callControlFailures.inc({ action, reason });
      deps.logger.error({ callControlId, action, attempts: job.attemptsMade + 1, err: errorMessage(err) }, 'command failed for good');
      await deps.onPermanentFailure?.(callControlId, action, err).catch(() => undefined);
      throw new UnrecoverableError(`${action} failed: ${errorMessage(err)}`);
    }
  };
}

/** BullMQ backoff strategy for commands: exponential with full jitter, Retry-After as a floor. */
export function commandBackoff(attemptsMade: number, _type: string | undefined, err: Error | undefined): number {
  const retryAfter = err instanceof TelnyxCommandError ? err.retryAfterMs : undefined;
  return computeBackoffMs(attemptsMade, COMMAND_BACKOFF_BASE_MS, COMMAND_BACKOFF_MAX_MS, retryAfter);
}
