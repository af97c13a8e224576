import type { CallSnapshot } from '../../lib/calls/call-snapshot';
import type { HistoryStore } from './conversation-deps';
import { type ConversationPhase, turnOf } from './conversation-phase';

/**
 * The conversation's state as another instance needs it to go on (see lib/calls/call-snapshot.ts).
 * A reply in progress is kept whole (the brain's text so far), since the new owner can only say it
 * again from the start; fixed phrases other than the greeting are not worth repeating.
 */
export function conversationSnapshot(s: {
  phase: ConversationPhase;
  history: HistoryStore;
  deadAirPrompts: number;
  dtmf: string;
  now: number;
}): CallSnapshot {
  // A speculative reply is not the agent's yet (its caller turn is not in the history either).
  const t = s.phase.kind === 'speculating' ? undefined : turnOf(s.phase);
  const pendingReply = t && t.recordInHistory ? t.texts.join(' ').trim() : '';
  return {
    v: 1,
    savedAt: s.now,
    history: s.history.entries(),
    deadAirPrompts: s.deadAirPrompts,
    dtmf: s.dtmf,
    ...(pendingReply ? { pendingReply } : {}),
    ...(s.phase.kind === 'transferring' ? { transferring: true } : {}),
    ...(s.phase.kind === 'listening' ? { deadAirDueAt: s.phase.deadAirDueAt } : {}),
  };
}
