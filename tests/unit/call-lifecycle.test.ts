/**
 * The phone call lifecycle as a pure function: every transition, the commands and notifications it
 * returns, illegal events ignored, re-delivered events idempotent, and records written by the
 * earlier code read back. No Redis, no queues.
 */
import type { CallRecord } from '../../src/lib/calls/call-store';
import {
  callStateOf,
  callStatePatch,
  recordOf,
  transition,
  type CallEvent,
  type CallState,
  type CallStep,
} from '../../src/lib/calls/call-lifecycle';
import { PROMPTS } from '../../src/lib/calls/prompts';

const ID = 'v3:call-1';
const T0 = 1_700_000_000_000;
const facts = { callControlId: ID, did: '+15551234567', from: '+15550001111', startedAt: T0, owner: 'instance-a' };

const initiated = (admission: Extract<CallEvent, { type: 'initiated' }>['admission']): CallEvent => ({
  type: 'initiated',
  call: { callControlId: ID, did: facts.did, from: facts.from, owner: facts.owner },
  admission,
  at: T0,
});
const answered: CallEvent = { type: 'answered' };
const promptEnded: CallEvent = { type: 'prompt_ended' };
const hangup = (cause?: string, at = T0 + 42_000): CallEvent => ({ type: 'hangup', cause, at });
const maxDuration: CallEvent = { type: 'max_duration' };
const ALL_LATER_EVENTS: CallEvent[] = [answered, promptEnded, hangup('normal_clearing'), maxDuration];

/** Runs events from no record, each on the state the previous one left. */
function run(events: CallEvent[], from?: CallState): { state: CallState | undefined; steps: CallStep[] } {
  let state = from;
  const steps: CallStep[] = [];
  for (const e of events) {
    const step = transition(state, e);
    steps.push(step);
    state = step.state;
  }
  return { state, steps };
}

const accepted = () => run([initiated({ kind: 'admitted', tenantId: 'acme' })]).state!;
const refused = () => run([initiated({ kind: 'at_capacity', tenantId: 'acme' })]).state!;

describe('call lifecycle: call.initiated', () => {
  it('admitted → answering with a slot held: answer with the media stream, arm the max-duration timer', () => {
    const step = transition(undefined, initiated({ kind: 'admitted', tenantId: 'acme' }));
    expect(step.state).toEqual({ ...facts, phase: 'answering', tenantId: 'acme', capHeld: true });
    expect(step.commands).toEqual([{ type: 'answer', stream: true, tenantId: 'acme' }, { type: 'schedule_max_duration' }]);
    expect(step.notifications).toEqual([{ type: 'accepted', tenantId: 'acme', did: facts.did }]);
  });

  it.each([
    ['not_configured', undefined, 'not_configured'],
    ['invalid_config', 'broken', 'invalid_config'],
    ['at_capacity', 'acme', 'at_capacity'],
    // A store failure is not the number's fault: the capacity words, and its own reason.
    ['store_error', undefined, 'capacity_error'],
    ['store_error', 'acme', 'capacity_error'],
  ] as const)('%s (tenant %s) → rejecting (%s): answer without a stream, the prompt kept for later', (kind, tenantId, reason) => {
    const step = transition(undefined, initiated({ kind, tenantId }));
    expect(step.state).toEqual({ ...facts, phase: 'rejecting', tenantId, capHeld: false, reason, prompt: PROMPTS[reason] });
    expect(step.commands).toEqual([{ type: 'answer', stream: false, tenantId }]);
    expect(step.notifications).toEqual([{ type: 'refused', reason, tenantId }]);
  });

  it('is ignored once the call has a record (a re-delivered or re-run call.initiated)', () => {
    for (const state of [accepted(), refused(), run([answered], accepted()).state!, run([hangup()], accepted()).state!]) {
      const step = transition(state, initiated({ kind: 'admitted', tenantId: 'other' }));
      expect(step).toEqual({ state, commands: [], notifications: [] });
      expect(step.state).toBe(state);
    }
  });

  it('ignores every other event before there is a record', () => {
    for (const e of ALL_LATER_EVENTS) expect(transition(undefined, e)).toEqual({ state: undefined, commands: [], notifications: [] });
  });
});

describe('call lifecycle: an accepted call', () => {
  it('answering → active on call.answered, with nothing to do', () => {
    const step = transition(accepted(), answered);
    expect(step.state).toMatchObject({ phase: 'active', tenantId: 'acme', capHeld: true });
    expect(step.commands).toEqual([]);
    expect(step.notifications).toEqual([]);
  });

  it.each([
    ['answering', []],
    ['active', [answered]],
  ] as const)('%s → ended on hangup: the slot released, the timers cancelled, the hangup cause kept', (_phase, before) => {
    const { state } = run([...before], accepted());
    const step = transition(state, hangup('normal_clearing', T0 + 42_000));
    expect(step.state).toMatchObject({ phase: 'ended', reason: 'normal_clearing', capHeld: false, tenantId: 'acme' });
    expect(step.commands).toEqual([{ type: 'release_slot', tenantId: 'acme' }, { type: 'cancel_fallback_hangup' }, { type: 'cancel_max_duration' }]);
    expect(step.notifications).toEqual([{ type: 'ended', tenantId: 'acme', durationMs: 42_000 }]);
  });

  it('names a hangup without a cause "hangup"', () => {
    expect(transition(accepted(), hangup(undefined)).state).toMatchObject({ phase: 'ended', reason: 'hangup' });
  });

  it.each([
    ['answering', []],
    ['active', [answered]],
  ] as const)('%s → ending at the maximum duration: the live session told, the goodbye said, hangup once it played', (_phase, before) => {
    const { state } = run([...before], accepted());
    const step = transition(state, maxDuration);
    expect(step.state).toMatchObject({ phase: 'ending', reason: 'max_duration', capHeld: true, hangupRequested: false });
    expect(step.commands).toEqual([{ type: 'tell_session', eventType: 'runtime.max_duration' }, { type: 'say', text: PROMPTS.max_duration, hangupAfter: true }]);
    expect(step.notifications).toEqual([{ type: 'max_duration_reached', tenantId: 'acme' }]);
  });

  it('after the goodbye: hangup on the prompt end, then the caller leg ends and the slot is released', () => {
    const { state: ending } = run([answered, maxDuration], accepted());
    const played = transition(ending, promptEnded);
    expect(played.state).toMatchObject({ phase: 'ending', hangupRequested: true });
    expect(played.commands).toEqual([{ type: 'cancel_fallback_hangup' }, { type: 'hangup' }]);
    const end = transition(played.state, hangup('normal_clearing'));
    // The reason the call ended is ours, not the hangup cause.
    expect(end.state).toMatchObject({ phase: 'ended', reason: 'max_duration', capHeld: false });
    expect(end.commands).toEqual([{ type: 'release_slot', tenantId: 'acme' }, { type: 'cancel_fallback_hangup' }, { type: 'cancel_max_duration' }]);
  });

  it('ignores prompt ends while the call is up (those are conversation playbacks)', () => {
    for (const state of [accepted(), run([answered], accepted()).state!]) {
      const step = transition(state, promptEnded);
      expect(step.state).toBe(state);
      expect(step.commands).toEqual([]);
    }
  });
});

describe('call lifecycle: the answer failed for good', () => {
  const answerFailed: CallEvent = { type: 'answer_failed', at: T0 + 120_000 };

  it('answering → ended: the slot released, the timer cancelled, a hangup attempted', () => {
    const step = transition(accepted(), answerFailed);
    expect(step.state).toMatchObject({ phase: 'ended', reason: 'answer_failed', capHeld: false, tenantId: 'acme' });
    expect(step.commands).toEqual([{ type: 'release_slot', tenantId: 'acme' }, { type: 'cancel_max_duration' }, { type: 'hangup' }]);
    expect(step.notifications).toEqual([{ type: 'ended', tenantId: 'acme', durationMs: 120_000 }]);
  });

  it('rejecting → ended with a hangup and nothing to release', () => {
    const step = transition(refused(), answerFailed);
    expect(step.state).toMatchObject({ phase: 'ended', reason: 'answer_failed', capHeld: false });
    expect(step.commands).toEqual([{ type: 'cancel_max_duration' }, { type: 'hangup' }]);
  });

  it('is ignored once the call was answered or ended (a late or repeated failure report)', () => {
    const active = run([answered], accepted()).state!;
    const ended = run([hangup('normal_clearing')], accepted()).state!;
    const failedOnce = transition(accepted(), answerFailed).state!;
    for (const state of [active, ended, failedOnce]) {
      const step = transition(state, answerFailed);
      expect(step.state).toBe(state);
      expect(step.commands).toEqual([]);
    }
  });
});

describe('call lifecycle: a refused call', () => {
  it('rejecting → ending on call.answered: the prompt is said, with a hangup after it', () => {
    const step = transition(refused(), answered);
    expect(step.state).toMatchObject({ phase: 'ending', reason: 'at_capacity', capHeld: false, hangupRequested: false });
    expect(step.commands).toEqual([{ type: 'say', text: PROMPTS.at_capacity, hangupAfter: true }]);
  });

  it('hangs up only after the prompt ended (not before it played)', () => {
    const { state, steps } = run([promptEnded, answered, promptEnded], refused());
    expect(steps[0]!.commands).toEqual([]); // before answered: nothing is playing yet
    expect(steps[2]!.commands).toEqual([{ type: 'cancel_fallback_hangup' }, { type: 'hangup' }]);
    expect(state).toMatchObject({ phase: 'ending', hangupRequested: true });
  });

  it('ends without releasing anything (it never held a slot), keeping the refusal as the reason', () => {
    for (const before of [[], [answered], [answered, promptEnded]]) {
      const step = transition(run(before, refused()).state, hangup('normal_clearing'));
      expect(step.state).toMatchObject({ phase: 'ended', reason: 'at_capacity' });
      expect(step.commands).toEqual([{ type: 'cancel_fallback_hangup' }, { type: 'cancel_max_duration' }]);
    }
  });

  it('ignores the maximum duration (a refusal is not a call)', () => {
    for (const state of [refused(), run([answered], refused()).state!]) expect(transition(state, maxDuration).state).toBe(state);
  });
});

describe('call lifecycle: illegal and re-delivered events', () => {
  it('ignores every event once the call ended', () => {
    const ended = run([hangup()], accepted()).state!;
    for (const e of [initiated({ kind: 'admitted', tenantId: 'acme' }), ...ALL_LATER_EVENTS]) {
      const step = transition(ended, e);
      expect(step).toEqual({ state: ended, commands: [], notifications: [] });
    }
  });

  it('gives each event its effect once: the same event again changes nothing and commands nothing', () => {
    const sequences: CallEvent[][] = [
      [answered, maxDuration, promptEnded, hangup()],
      [answered, promptEnded, hangup()],
    ];
    for (const [i, seq] of sequences.entries()) {
      let state: CallState | undefined = i === 0 ? accepted() : refused();
      for (const e of seq) {
        state = transition(state, e).state;
        const again = transition(state, e);
        expect(again.state).toBe(state);
        expect(again.commands).toEqual([]);
        expect(again.notifications).toEqual([]);
      }
    }
  });

  it('ignores call.answered outside answering and rejecting', () => {
    const ending = run([answered, maxDuration], accepted()).state!;
    expect(transition(ending, answered).state).toBe(ending);
  });
});

describe('call lifecycle: the Redis record', () => {
  /** As the earlier CallFlow wrote them (CallStore.get output). */
  const old = (r: Partial<CallRecord>): CallRecord => ({ ...facts, phase: 'answering', capHeld: false, ...r });

  it('reads records of the earlier code', () => {
    expect(callStateOf(old({ phase: 'answering', tenantId: 'acme', capHeld: true }))).toEqual({ ...facts, phase: 'answering', tenantId: 'acme', capHeld: true });
    expect(callStateOf(old({ phase: 'rejecting', reason: 'not_configured', prompt: PROMPTS.not_configured }))).toMatchObject({ phase: 'rejecting', reason: 'not_configured', prompt: PROMPTS.not_configured });
    // The earlier code left the refusal prompt on the record when it moved on to ending, and wrote no hangupRequested.
    expect(callStateOf(old({ phase: 'ending', reason: 'invalid_config', prompt: PROMPTS.invalid_config }))).toEqual({ ...facts, phase: 'ending', reason: 'invalid_config', capHeld: false, hangupRequested: false });
    expect(callStateOf(old({ phase: 'ending', reason: 'max_duration', tenantId: 'acme', capHeld: true }))).toMatchObject({ phase: 'ending', reason: 'max_duration', capHeld: true });
    // An ended record keeps capHeld=1 in the earlier format: the slot was released at the end all the same.
    expect(callStateOf(old({ phase: 'ended', reason: 'normal_clearing', tenantId: 'acme', capHeld: true }))).toMatchObject({ phase: 'ended', capHeld: false });
  });

  it('reads a hand-damaged record safely: an unknown phase as ended, a refusal without a prompt with its reason\'s prompt', () => {
    expect(callStateOf(old({ phase: 'bogus' as CallRecord['phase'] }))).toMatchObject({ phase: 'ended', reason: 'unknown_phase' });
    expect(callStateOf(old({ phase: 'rejecting', reason: 'at_capacity' }))).toMatchObject({ prompt: PROMPTS.at_capacity });
    expect(callStateOf(old({ phase: 'rejecting', reason: 'nonsense' }))).toMatchObject({ reason: 'capacity_error', prompt: PROMPTS.capacity_error });
  });

  it('round-trips every state through the record', () => {
    const states = [accepted(), refused(), ...run([answered, maxDuration, promptEnded, hangup('x')], accepted()).steps.map((s) => s.state!)];
    for (const s of states) expect(callStateOf(recordOf(s))).toEqual(s);
  });

  it('patches only the fields a transition changed, never the media instance', () => {
    const active = { ...run([answered], accepted()).state!, mediaInstance: 'instance-b' };
    const ending = transition(active, maxDuration).state!;
    expect(callStatePatch(active, ending)).toEqual({ phase: 'ending', reason: 'max_duration', hangupRequested: false });
    const ended = transition(ending, hangup()).state!;
    expect(callStatePatch(ending, ended)).toEqual({ phase: 'ended', capHeld: false });
  });
});
