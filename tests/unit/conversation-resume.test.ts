/**
 * A conversation that moves to another instance: the checkpoints it writes at turn boundaries, and
 * how a conversation built from one goes on (no second greeting, history for the brain, a cut-off
 * reply said again, DTMF digits kept, dead-air count kept).
 */
import type { CallSnapshot } from '../../src/lib/calls/call-snapshot';
import { RESUME_DEAD_AIR_GRACE_MS } from '../../src/media/conversation/conversation';
import { PHRASES } from '../../src/media/conversation/phrases';
import { SETTINGS, setup, useFakeClock } from './conversation-harness';

useFakeClock();

describe('conversation checkpoints', () => {
  it('stores the state at every turn boundary: caller turn taken, reply finished', async () => {
    const snaps: CallSnapshot[] = [];
    const h = setup({ checkpoint: (s) => snaps.push(s) });
    h.greet();
    expect(snaps.at(-1)).toMatchObject({ v: 1, history: [{ role: 'assistant', content: 'Welcome to Acme.' }], deadAirPrompts: 0, dtmf: '' });
    h.say('I need a plumber');
    // The caller's words are in history before the reply exists: a crash now re-runs nothing, loses nothing said.
    expect(snaps.at(-1)!.history.map((e) => e.content)).toEqual(['Welcome to Acme.', 'I need a plumber']);
    expect(snaps.at(-1)!.pendingReply).toBeUndefined();
    await h.answer('We can send one today.');
    expect(snaps.at(-1)!.history.map((e) => e.role)).toEqual(['assistant', 'user', 'assistant']);
    expect(snaps.at(-1)!.pendingReply).toBeUndefined();
    // Listening again: the snapshot carries when "Are you still there?" is due.
    expect(snaps.at(-1)!.deadAirDueAt).toBe(Date.now() + SETTINGS.deadAirMs);
  });

  it('snapshot() mid-reply keeps the reply in progress to be said again', async () => {
    const h = setup();
    h.greet();
    h.say('I need a plumber');
    h.brain.last.token('We can send one today. ');
    h.brain.last.token('Is the afternoon fine?');
    const snap = h.conv.snapshot();
    expect(snap.pendingReply).toContain('We can send one today.');
  });
});

describe('conversation resumed from a snapshot', () => {
  const base: CallSnapshot = {
    v: 1,
    savedAt: 1,
    history: [
      { role: 'assistant', content: 'Welcome to Acme.', timestamp: 1 },
      { role: 'user', content: 'I need a plumber', timestamp: 2 },
      { role: 'assistant', content: 'When would suit you?', timestamp: 3 },
    ],
    deadAirPrompts: 0,
    dtmf: '',
  };

  it('does not greet again and listens; the next brain request carries the old history', async () => {
    const h = setup({ resumeFrom: base });
    h.conv.start();
    expect(h.synth.requests).toHaveLength(0);
    expect(h.conv.phaseKind).toBe('listening');
    h.say('Tomorrow morning');
    await Promise.resolve();
    expect(h.brain.last.req.transcript).toBe('Tomorrow morning');
    expect(h.brain.last.req.history.map((e) => e.content)).toEqual(['Welcome to Acme.', 'I need a plumber', 'When would suit you?']);
  });

  it('says a cut-off reply again, and records it as heard once it has played', () => {
    const h = setup({ resumeFrom: { ...base, pendingReply: 'Is the afternoon fine?' } });
    h.conv.start();
    expect(h.lastTurnText()).toBe('Is the afternoon fine?');
    h.readyAll();
    h.voice.finishAll();
    expect(h.conv.phaseKind).toBe('listening');
    expect(h.assistantHistory().at(-1)).toBe('Is the afternoon fine?');
  });

  it('keeps the dead-air count: one more unanswered prompt than allowed says goodbye', () => {
    const h = setup({ resumeFrom: { ...base, deadAirPrompts: 2 }, settings: { deadAirMs: 1000, maxDeadAirPrompts: 2 } });
    h.conv.start();
    jest.advanceTimersByTime(1000);
    expect(h.lastTurnText()).toBe(PHRASES.deadAirGoodbye);
  });

  it('keeps the dead-air deadline: a silent caller is asked when it was due, not a whole deadAirMs after the move', () => {
    const h = setup({ resumeFrom: { ...base, deadAirDueAt: Date.now() + 3000 }, settings: { deadAirMs: 8000 } });
    h.conv.start();
    jest.advanceTimersByTime(2999);
    expect(h.synth.requests).toHaveLength(0);
    jest.advanceTimersByTime(1);
    expect(h.lastTurnText()).toBe(PHRASES.stillThere);
  });

  it('a deadline already past waits the resume grace first; one further away than deadAirMs is cut to deadAirMs', () => {
    const past = setup({ resumeFrom: { ...base, deadAirDueAt: Date.now() - 5000, deadAirPrompts: 2 }, settings: { deadAirMs: 8000, maxDeadAirPrompts: 2 } });
    past.conv.start();
    jest.advanceTimersByTime(RESUME_DEAD_AIR_GRACE_MS - 1);
    expect(past.synth.requests).toHaveLength(0); // no goodbye the moment the call arrives
    jest.advanceTimersByTime(1);
    expect(past.lastTurnText()).toBe(PHRASES.deadAirGoodbye);
    const far = setup({ resumeFrom: { ...base, deadAirDueAt: Date.now() + 60_000 }, settings: { deadAirMs: 3000 } });
    far.conv.start();
    jest.advanceTimersByTime(3000);
    expect(far.lastTurnText()).toBe(PHRASES.stillThere);
  });

  it('keeps typed digits: the rest of the input joins them', async () => {
    const h = setup({ resumeFrom: { ...base, dtmf: '12' } });
    h.conv.start();
    h.conv.dtmf('3');
    h.conv.dtmf('#');
    await Promise.resolve();
    expect(h.brain.last.req.transcript).toBe('[DTMF 123#]');
  });

  it('after a transfer was sent, only listens (no dead-air prompts)', () => {
    const h = setup({ resumeFrom: { ...base, transferring: true }, settings: { deadAirMs: 1000 } });
    h.conv.start();
    expect(h.conv.phaseKind).toBe('transferring');
    jest.advanceTimersByTime(5000);
    expect(h.synth.requests).toHaveLength(0);
  });
});
