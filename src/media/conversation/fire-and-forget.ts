import { errorMessage } from '../../lib/errors';
import type { ConversationDeps } from './conversation-deps';

/**
 * The conversation's side effects it does not wait for. Fire and forget, but never an unhandled
 * rejection (it would take the whole process down): failures are logged, and `onFailed` runs.
 */

type Deps = Pick<ConversationDeps, 'callControlId' | 'commands' | 'synth' | 'logger'>;

export function issueCommand(d: Deps, action: string, body: Record<string, unknown>, onFailed?: () => void): void {
  d.commands.issue(d.callControlId, action, body).catch((err: unknown) => {
    d.logger.error({ callControlId: d.callControlId, action, err: errorMessage(err) }, 'call command could not be issued');
    onFailed?.();
  });
}

/** Removes queued TTS jobs of a dropped turn (a job already synthesized is removed for nothing: harmless). */
export function cancelSynthJobs(d: Deps, jobIds: string[]): void {
  d.synth.cancel(jobIds).catch((err: unknown) => {
    d.logger.warn({ callControlId: d.callControlId, err: errorMessage(err) }, 'could not cancel TTS jobs');
  });
}
