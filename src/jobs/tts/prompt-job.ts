import { callJobId } from '../call-job-id';

/** A caller-facing prompt to synthesize and play on a call (tts queue, job name "prompt"). */
export interface PromptJobData {
  callControlId: string;
  text: string;
  voice: string;
  kokoroUrl: string;
  sampleRate: number;
  speed?: number;
  /** Hang up once the prompt has played (refusals, goodbyes). */
  hangupAfter: boolean;
  clientState?: string;
}

export const PROMPT_JOB = 'prompt';
/** One retry (design: "timeout, retry once"); after that Telnyx `speak` says the text instead. */
export const PROMPT_ATTEMPTS = 2;
/** After a prompt, hang up at the latest this long after its expected end if Telnyx sends no playback end. */
export const HANGUP_GRACE_MS = 2000;
/** Rough speaking rate for `speak` fallbacks whose duration we cannot measure: ~14 chars/s. */
export const SPEAK_MS_PER_CHAR = 70;

/** Job id of a prompt's delayed fallback hangup on the call-control queue (the call flow cancels it). */
export const hangupFallbackJobId = (callControlId: string) => callJobId('hangup-fallback', callControlId);
