/**
 * A simulated caller with a pause in the middle of the demo conversation, for the scenarios that
 * break something under a live call (instance loss, Redis failover): the greeting, the booking line
 * (a brain turn) and its answer; then silence until `gate.open`; then "Two in the afternoon works for
 * me" (a second brain turn), and a hang-up once the answer has been heard.
 */
import { CALLER_LINES } from './script';
import type { CallerStep } from './sim-call';
import { loadBundledSpeech, SPEECH_RATE } from './speech';

export function* pausedCaller(
  gate: { open: boolean },
  /** Runs once the answer to the first line has been heard. */
  firstReply: () => void,
  /** How the caller waits for the last answer. */
  lastWait: { quietMs: number; timeoutMs: number } = { quietMs: 600, timeoutMs: 15_000 },
): Iterable<CallerStep> {
  const speech = loadBundledSpeech();
  const say = (i: number): CallerStep => ({ say: speech.utterances[i]!.pcm, sampleRate: SPEECH_RATE, index: i, text: CALLER_LINES[i] });
  yield { waitForAgent: { quietMs: 400, timeoutMs: 15_000 } };
  yield say(0);
  yield { waitForAgent: { quietMs: 500, timeoutMs: 15_000 } };
  firstReply();
  while (!gate.open) yield { silenceMs: 100 };
  yield say(2);
  yield { waitForAgent: lastWait };
  yield { hangup: true };
}
