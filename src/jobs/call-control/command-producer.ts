import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { CallOrder } from '../../lib/ordering/call-order';
import { COMMAND_MAX_ATTEMPTS, COMMAND_BACKOFF_TYPE, orderedCommandJobId, type CommandJobData } from './command-job';

export interface IssueOptions {
  /** Delay before the command may run (e.g. a fallback hangup after a prompt's length). */
  delayMs?: number;
  /** Stable job id for delayed commands that may need cancelling. */
  jobId?: string;
  /** Give up retrying sooner than the action's deadline (ms after the command is due), e.g. a segment's length. */
  budgetMs?: number;
}

/**
 * Issues Call Control commands through the `call-control` queue. Each command gets its place in
 * the call's command order and a `command_id` that every retry reuses.
 */
export class CommandProducer {
  constructor(
    private readonly queue: Queue,
    private readonly order: CallOrder,
  ) {}

  async issue(callControlId: string, action: string, body: Record<string, unknown> = {}, opts: IssueOptions = {}): Promise<string> {
    const commandId = randomUUID();
    // Delayed commands (fallback timers) must not block the commands issued after them, so they
    // take no place in the order.
    const seq = opts.delayMs ? 0 : await this.order.next('cmd', callControlId);
    const data: CommandJobData = { callControlId, action, body: { ...body, command_id: commandId }, seq, issuedAt: Date.now() };
    if (opts.budgetMs !== undefined) data.budgetMs = opts.budgetMs;
    await this.queue.add(action, data, {
      jobId: opts.jobId ?? (seq > 0 ? orderedCommandJobId(callControlId, seq) : `cmd-${commandId}`),
      delay: opts.delayMs,
      attempts: COMMAND_MAX_ATTEMPTS,
      backoff: { type: COMMAND_BACKOFF_TYPE },
    });
    return commandId;
  }

  /** Removes a delayed command that has not run yet (no-op when it ran or never existed). */
  async cancel(jobId: string): Promise<void> {
    const job = await this.queue.getJob(jobId);
    if (job && (await job.isDelayed())) await job.remove().catch(() => undefined);
  }
}
