/**
 * The lifecycle of a call as one pure function: `transition(state, event)` returns the next
 * state, the commands to issue and what to tell the logs and metrics. No I/O: for a phone call
 * CallFlow (jobs/calls/call-flow.ts) loads the record, transitions, persists the change and issues
 * the commands to Telnyx; a browser call (media/webrtc/webrtc-calls.ts) keeps its state in memory
 * and carries the commands out as a browser call can (its `answer` is the offer's SDP answer). An event a phase does not
 * expect is ignored (same state object back, nothing to do), which also makes a re-delivered
 * event harmless: each event has its effect once.
 *
 *   phase \ event   initiated            answered         prompt_ended        hangup          max_duration      answer_failed
 *   (none)          answering|rejecting  –                –                   –               –                 –
 *   answering       –                    active           –                   ended (release) ending (goodbye)  ended (release, hangup)
 *   active          –                    –                –                   ended (release) ending (goodbye)  –
 *   rejecting       –                    ending (prompt)  –                   ended           –                 ended (hangup)
 *   ending          –                    –                hangup, once        ended (release) –                 –
 *   ended           –                    –                –                   –               –                 –
 *
 * answer_failed: the `answer` command failed for good (rejected, or Telnyx unreachable until its
 * deadline). Nobody will talk on this call: its slot goes back and a hangup is attempted.
 *
 * The state is read from and written to the CallRecord hash (call-store.ts) in the format the
 * earlier code wrote, so calls in flight during an upgrade carry on.
 */
import type { CallPhase, CallRecord, RejectReason } from './call-store';
import { PROMPTS } from './prompts';

/** What every phase knows about the call. */
interface CallFacts {
  callControlId: string;
  did?: string;
  from?: string;
  startedAt: number;
  /** Instance that set the call up. */
  owner?: string;
  /** Instance holding the media socket (written by the ingress, never by a transition). */
  mediaInstance?: string;
  tenantId?: string;
  /** The call holds a capacity slot that the end of the call must release. */
  capHeld: boolean;
}

export type CallState =
  /** Admitted, `answer` with the media stream sent; holds a slot. */
  | (CallFacts & { phase: 'answering'; tenantId: string })
  /** Answered: the conversation runs on the instance holding the media socket. */
  | (CallFacts & { phase: 'active'; tenantId: string })
  /** Refused, `answer` without a stream sent: the prompt is said once answered. */
  | (CallFacts & { phase: 'rejecting'; reason: RejectReason; prompt: string })
  /** The last prompt is playing (refusal or goodbye); hangup once it has played. */
  | (CallFacts & { phase: 'ending'; reason: string; hangupRequested: boolean })
  | (CallFacts & { phase: 'ended'; reason: string });

/** How admission went (lib/calls/admission.ts outcomes are assignable to it). */
export type AdmissionVerdict =
  | { kind: 'admitted'; tenantId: string }
  | { kind: 'not_configured' | 'invalid_config' | 'at_capacity' | 'store_error'; tenantId?: string };

export type CallEvent =
  | { type: 'initiated'; call: { callControlId: string; did?: string; from?: string; owner?: string }; admission: AdmissionVerdict; at: number }
  | { type: 'answered' }
  /** call.playback.ended / call.speak.ended */
  | { type: 'prompt_ended' }
  | { type: 'hangup'; cause?: string; at: number }
  /** MAX_CALL_DURATION_MS passed since the call was set up. */
  | { type: 'max_duration' }
  /** The `answer` command failed for good. */
  | { type: 'answer_failed'; at: number };

export type CallCommand =
  | { type: 'answer'; stream: boolean; tenantId?: string }
  | { type: 'schedule_max_duration' }
  | { type: 'cancel_max_duration' }
  | { type: 'say'; text: string; hangupAfter: true }
  /** The prompt job's delayed hangup, armed in case Telnyx never reports the prompt's end. */
  | { type: 'cancel_fallback_hangup' }
  | { type: 'hangup' }
  | { type: 'release_slot'; tenantId: string }
  /** An event for the live session (it stops talking and listening). */
  | { type: 'tell_session'; eventType: 'runtime.max_duration' };

export type CallNotification =
  | { type: 'accepted'; tenantId: string; did?: string }
  | { type: 'refused'; reason: RejectReason; tenantId?: string }
  | { type: 'max_duration_reached'; tenantId?: string }
  | { type: 'ended'; tenantId?: string; durationMs: number };

export interface CallStep {
  /** The same object as the input when the event was ignored. */
  state: CallState | undefined;
  commands: CallCommand[];
  notifications: CallNotification[];
}

const REFUSAL_REASON: Record<Exclude<AdmissionVerdict['kind'], 'admitted'>, RejectReason> = {
  not_configured: 'not_configured',
  invalid_config: 'invalid_config',
  at_capacity: 'at_capacity',
  // A Redis failure is not the number's fault: the capacity words (PROMPTS.capacity_error).
  store_error: 'capacity_error',
};

function factsOf(s: CallState): CallFacts {
  return { callControlId: s.callControlId, did: s.did, from: s.from, startedAt: s.startedAt, owner: s.owner, mediaInstance: s.mediaInstance, tenantId: s.tenantId, capHeld: s.capHeld };
}

const ignored = (state: CallState | undefined): CallStep => ({ state, commands: [], notifications: [] });

export function transition(state: CallState | undefined, event: CallEvent): CallStep {
  if (!state) return event.type === 'initiated' ? onInitiated(event) : ignored(state);
  switch (event.type) {
    case 'answered':
      if (state.phase === 'answering') return { state: { ...state, phase: 'active' }, commands: [], notifications: [] };
      if (state.phase === 'rejecting') {
        return { state: { ...factsOf(state), phase: 'ending', reason: state.reason, hangupRequested: false }, commands: [{ type: 'say', text: state.prompt, hangupAfter: true }], notifications: [] };
      }
      return ignored(state);
    case 'prompt_ended':
      // Only the last prompt ends the call (not before it played); the hangup goes out once.
      if (state.phase !== 'ending' || state.hangupRequested) return ignored(state);
      return { state: { ...state, hangupRequested: true }, commands: [{ type: 'cancel_fallback_hangup' }, { type: 'hangup' }], notifications: [] };
    case 'hangup':
      return state.phase === 'ended' ? ignored(state) : onHangup(state, event);
    case 'max_duration':
      if (state.phase !== 'answering' && state.phase !== 'active') return ignored(state);
      return {
        state: { ...state, phase: 'ending', reason: 'max_duration', hangupRequested: false },
        commands: [{ type: 'tell_session', eventType: 'runtime.max_duration' }, { type: 'say', text: PROMPTS.max_duration, hangupAfter: true }],
        notifications: [{ type: 'max_duration_reached', tenantId: state.tenantId }],
      };
    case 'answer_failed':
      if (state.phase !== 'answering' && state.phase !== 'rejecting') return ignored(state);
      return onAnswerFailed(state, event);
    case 'initiated':
      return ignored(state); // set up already (a re-delivered or re-run event)
  }
}

function onAnswerFailed(state: Extract<CallState, { phase: 'answering' | 'rejecting' }>, event: Extract<CallEvent, { type: 'answer_failed' }>): CallStep {
  const commands: CallCommand[] = [];
  if (state.capHeld && state.tenantId) commands.push({ type: 'release_slot', tenantId: state.tenantId });
  // The caller may still be ringing: let Telnyx end it rather than leave them to give up.
  commands.push({ type: 'cancel_max_duration' }, { type: 'hangup' });
  return {
    state: { ...factsOf(state), phase: 'ended', reason: 'answer_failed', capHeld: false },
    commands,
    notifications: [{ type: 'ended', tenantId: state.tenantId, durationMs: event.at - state.startedAt }],
  };
}

function onInitiated(event: Extract<CallEvent, { type: 'initiated' }>): CallStep {
  const { admission: a, call } = event;
  const facts = { callControlId: call.callControlId, did: call.did, from: call.from, owner: call.owner, startedAt: event.at };
  if (a.kind === 'admitted') {
    return {
      state: { ...facts, phase: 'answering', tenantId: a.tenantId, capHeld: true },
      commands: [{ type: 'answer', stream: true, tenantId: a.tenantId }, { type: 'schedule_max_duration' }],
      notifications: [{ type: 'accepted', tenantId: a.tenantId, did: call.did }],
    };
  }
  const reason = REFUSAL_REASON[a.kind];
  return {
    // Refused: answered without a stream, so the caller hears why once the call is up.
    state: { ...facts, phase: 'rejecting', tenantId: a.tenantId, capHeld: false, reason, prompt: PROMPTS[reason] },
    commands: [{ type: 'answer', stream: false, tenantId: a.tenantId }],
    notifications: [{ type: 'refused', reason, tenantId: a.tenantId }],
  };
}

function onHangup(state: Exclude<CallState, { phase: 'ended' }>, event: Extract<CallEvent, { type: 'hangup' }>): CallStep {
  // A call we were ending keeps our reason (refusal, max_duration); otherwise the hangup cause.
  const reason = ('reason' in state ? state.reason : undefined) ?? event.cause ?? 'hangup';
  const commands: CallCommand[] = [];
  if (state.capHeld && state.tenantId) commands.push({ type: 'release_slot', tenantId: state.tenantId });
  commands.push({ type: 'cancel_fallback_hangup' }, { type: 'cancel_max_duration' });
  return {
    state: { ...factsOf(state), phase: 'ended', reason, capHeld: false },
    commands,
    notifications: [{ type: 'ended', tenantId: state.tenantId, durationMs: event.at - state.startedAt }],
  };
}

// --- the Redis record ---------------------------------------------------------------------------

const REJECT_REASONS: ReadonlySet<string> = new Set<RejectReason>(['not_configured', 'invalid_config', 'at_capacity', 'capacity_error']);

/** The state of a stored record, including records of earlier versions and hand-damaged ones. */
export function callStateOf(r: CallRecord): CallState {
  const facts: CallFacts = { callControlId: r.callControlId, did: r.did, from: r.from, startedAt: r.startedAt, owner: r.owner, mediaInstance: r.mediaInstance, tenantId: r.tenantId, capHeld: r.capHeld === true };
  const phase: CallPhase = r.phase;
  switch (phase) {
    case 'answering':
    case 'active':
      // Every version writes the tenant with these phases; without one there is no slot to release.
      return { ...facts, phase, tenantId: r.tenantId ?? '', capHeld: facts.capHeld && !!r.tenantId };
    case 'rejecting': {
      const reason = r.reason && REJECT_REASONS.has(r.reason) ? (r.reason as RejectReason) : 'capacity_error';
      return { ...facts, phase, reason, prompt: r.prompt ?? PROMPTS[reason] };
    }
    case 'ending':
      return { ...facts, phase, reason: r.reason ?? 'hangup', hangupRequested: r.hangupRequested === true };
    case 'ended':
      // Earlier versions left capHeld=1 on ended records; the slot was released all the same.
      return { ...facts, phase, reason: r.reason ?? 'hangup', capHeld: false };
    default:
      return { ...facts, phase: 'ended', reason: 'unknown_phase', capHeld: false };
  }
}

/** The record a new call is created with. */
export function recordOf(s: CallState): CallRecord {
  return {
    callControlId: s.callControlId,
    phase: s.phase,
    tenantId: s.tenantId,
    did: s.did,
    from: s.from,
    prompt: s.phase === 'rejecting' ? s.prompt : undefined,
    reason: 'reason' in s ? s.reason : undefined,
    capHeld: s.capHeld,
    hangupRequested: s.phase === 'ending' ? s.hangupRequested : undefined,
    startedAt: s.startedAt,
    owner: s.owner,
    mediaInstance: s.mediaInstance,
  };
}

/** Fields a transition may change; others (mediaInstance above all) belong to other writers. */
const LIFECYCLE_FIELDS = ['phase', 'tenantId', 'reason', 'prompt', 'capHeld', 'hangupRequested'] as const;

/** The fields of the record that differ between two states (what CallStore.update must write). */
export function callStatePatch(before: CallState, after: CallState): Partial<CallRecord> {
  const a = recordOf(before);
  const b = recordOf(after);
  const patch: Partial<CallRecord> = {};
  for (const k of LIFECYCLE_FIELDS) {
    if (b[k] !== undefined && b[k] !== a[k]) (patch as Record<string, unknown>)[k] = b[k];
  }
  return patch;
}
