import type { CancelTimer } from '../../lib/timers';
import type { PlayableSegment } from './agent-voice';
import type { Turn } from './turn';

/**
 * Where a conversation is, with what only that phase owns. Conversation changes it in one place
 * (setPhase), which ends the old phase first (endPhase): a timer never outlives its phase.
 */
export type ConversationPhase =
  /** Created; start() greets. */
  | { kind: 'idle' }
  /** The agent has the turn: the reply is being thought, synthesized and played. */
  | { kind: 'responding'; turn: Turn }
  /**
   * The caller spoke over the reply: playback stopped, and the verdict (a backchannel or blip
   * resumes `remaining`, real speech drops the reply) is pending. `heard`: how much of each cut
   * segment was played. `verdictTimer`: the next look at whether the caller is still talking.
   */
  | { kind: 'interrupted'; turn: Turn; heard: Map<string, number>; remaining: PlayableSegment[]; verdictTimer: CancelTimer }
  /**
   * The caller stopped and `transcript` may be their whole turn: the reply is prepared (brain, TTS)
   * but not played; `held` keeps its synthesized segments in order. The final with the same words
   * commits it (responding); the caller going on drops it. `expiry` drops it if no verdict comes.
   */
  | { kind: 'speculating'; turn: Turn; transcript: string; held: PlayableSegment[]; expiry: CancelTimer }
  /**
   * Waiting for the caller; `deadAirTimer` asks "Are you still there?" when nothing comes, at
   * `deadAirDueAt` (ms epoch, the conversation's clock; a call that moves keeps its deadline).
   */
  | { kind: 'listening'; deadAirTimer: CancelTimer; deadAirDueAt: number }
  /** The transfer command was sent: the caller may still talk (a turn), but silence is not dead air. */
  | { kind: 'transferring' }
  /** Hangup sent, or max duration reached: caller input is ignored until the call ends. */
  | { kind: 'ending' }
  /** The call is over: every event is ignored. */
  | { kind: 'ended' };

export type ConversationPhaseKind = ConversationPhase['kind'];

/** Tears down what `phase` owns (its timers). The turn is not ended here: whether it completed or was dropped is the caller's call. */
export function endPhase(phase: ConversationPhase): void {
  if (phase.kind === 'listening') phase.deadAirTimer();
  else if (phase.kind === 'interrupted') phase.verdictTimer();
  else if (phase.kind === 'speculating') phase.expiry();
}

/** The agent turn the phase holds (the reply in progress), if any. */
export function turnOf(phase: ConversationPhase): Turn | undefined {
  return phase.kind === 'responding' || phase.kind === 'interrupted' || phase.kind === 'speculating' ? phase.turn : undefined;
}

/** Hangup sent or the call over: caller input no longer starts anything. */
export function isOver(phase: ConversationPhase): boolean {
  return phase.kind === 'ending' || phase.kind === 'ended';
}
