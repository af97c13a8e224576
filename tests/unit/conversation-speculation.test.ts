/**
 * Speculative replies: on a tentative end of turn the reply is prepared (brain, TTS) but not played;
 * the final with the same words plays it, the caller going on drops it and their words make one turn.
 */
import { flush, setup, useFakeClock } from './conversation-harness';

useFakeClock();

const count = async (h: ReturnType<typeof setup>, outcome: string) =>
  (await h.metrics.speculativeReplies.get()).values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
const userEntries = (h: ReturnType<typeof setup>) => h.history.entries().filter((e) => e.role === 'user').map((e) => e.content);

describe('speculative reply', () => {
  it('is prepared on the tentative words, held, and played when the final confirms them', async () => {
    const h = setup();
    h.greet();
    h.onset();
    h.conv.tentative('Could I book a table for two tonight');
    await flush();
    expect(h.conv.phaseKind).toBe('speculating');
    expect(h.brain.calls).toHaveLength(1);
    expect(h.brain.calls[0]!.req.transcript).toBe('Could I book a table for two tonight');
    // The brain's request has the history before this turn; the turn itself is not in it yet.
    expect(userEntries(h)).toEqual([]);
    h.brain.last.token('Sure, for what time? ');
    h.brain.last.finish();
    await flush();
    h.readyAll();
    expect(h.voice.log).toEqual(['play t1-s0']); // the greeting only: the reply is held
    h.final('Could I book a table for two tonight');
    expect(h.conv.phaseKind).toBe('responding');
    expect(h.voice.log).toEqual(['play t1-s0', 'play t2-s0']);
    expect(userEntries(h)).toEqual(['Could I book a table for two tonight']);
    h.voice.finishAll();
    expect(h.conv.phaseKind).toBe('listening');
    expect(h.brain.calls).toHaveLength(1);
    expect(await count(h, 'committed')).toBe(1);
  });

  it('a segment synthesized after the commit plays at once', async () => {
    const h = setup();
    h.greet();
    h.conv.tentative('yes');
    h.brain.last.token('Great. ');
    await flush();
    h.final('yes');
    expect(h.voice.log).toEqual(['play t1-s0']);
    h.readyAll();
    expect(h.voice.log).toEqual(['play t1-s0', 'play t2-s0']);
  });

  it('is dropped when the caller goes on, and their words make one turn with one brain transcript', async () => {
    const h = setup();
    h.greet();
    h.onset();
    h.conv.tentative('I would like to book an appointment');
    h.brain.last.token('Sure. ');
    await flush();
    const first = h.brain.last;
    h.conv.speechResumed();
    expect(first.signal.aborted).toBe(true);
    expect(h.synth.cancelled.length).toBe(h.synth.requests.length - 1); // every job of the dropped reply (not the greeting's)
    expect(h.conv.phaseKind).toBe('listening');
    h.readyAll(); // a late TTS result of the dropped reply
    expect(h.voice.log).toEqual(['play t1-s0']);
    h.final('I would like to book an appointment tomorrow morning.');
    await flush();
    expect(h.brain.calls.map((c) => c.req.transcript)).toEqual(['I would like to book an appointment', 'I would like to book an appointment tomorrow morning.']);
    expect(userEntries(h)).toEqual(['I would like to book an appointment tomorrow morning.']);
    expect(h.brain.last.req.history.filter((e) => e.role === 'user')).toEqual([]);
    expect(await count(h, 'dropped')).toBe(1);
  });

  it('is dropped when the final has other words (one turn, the final words)', async () => {
    const h = setup();
    h.greet();
    h.conv.tentative('two in the afternoon');
    await flush();
    h.final('Two in the afternoon works for me.');
    await flush();
    expect(h.brain.calls[0]!.signal.aborted).toBe(true);
    expect(h.brain.last.req.transcript).toBe('Two in the afternoon works for me.');
    expect(userEntries(h)).toEqual(['Two in the afternoon works for me.']);
  });

  it('is let go when no final ever comes, and does nothing with TURN_SPECULATIVE_REPLY=false', async () => {
    const h = setup();
    h.greet();
    h.conv.tentative('hello');
    expect(h.conv.phaseKind).toBe('speculating');
    jest.advanceTimersByTime(10_000);
    expect(h.conv.phaseKind).toBe('listening');
    expect(h.brain.calls[0]!.signal.aborted).toBe(true);
    const off = setup({ settings: { speculate: false } });
    off.greet();
    off.conv.tentative('hello');
    await flush();
    expect(off.conv.phaseKind).toBe('listening');
    expect(off.brain.calls).toHaveLength(0);
  });

  it('is not started while the agent is speaking, and a hangup ends it', async () => {
    const h = setup();
    h.conv.start(); // greeting playing
    h.conv.tentative('hello');
    expect(h.conv.phaseKind).toBe('responding');
    expect(h.brain.calls).toHaveLength(0);
    h.readyAll();
    h.voice.finishAll();
    h.conv.tentative('hello');
    await flush();
    h.conv.onWebhook('call.hangup', {});
    expect(h.conv.phaseKind).toBe('ended');
    expect(h.brain.calls[0]!.signal.aborted).toBe(true);
  });

  it('a snapshot taken while speculating holds no pending reply', async () => {
    const h = setup();
    h.greet();
    h.conv.tentative('hello');
    h.brain.last.token('Hi there, how can I help? ');
    await flush();
    expect(h.conv.snapshot().pendingReply).toBeUndefined();
  });
});
