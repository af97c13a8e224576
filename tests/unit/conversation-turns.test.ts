import { createLocalBrain } from '../../src/lib/brain/local-brain';
import { CallHistory } from '../../src/lib/brain/history';
import { PHRASES } from '../../src/media/conversation/phrases';
import { flush, setup, useFakeClock } from './conversation-harness';

useFakeClock();

describe('greeting', () => {
  it("says the tenant's greeting", () => {
    const h = setup({ tenant: { greeting: 'Hi, Acme Dental here.' } });
    h.conv.start();
    expect(h.synth.texts()).toEqual(['Hi, Acme Dental here.']);
  });

  it('falls back to GREETING_TEXT (settings), then to the default greeting', () => {
    const a = setup({ tenant: {} });
    a.conv.start();
    expect(a.synth.texts()).toEqual(['Welcome to Acme.']);
    const b = setup({ tenant: { greeting: '  ' }, settings: { greeting: '' } });
    b.conv.start();
    expect(b.lastTurnText()).toBe(PHRASES.defaultGreeting);
  });

  it('greets once, plays it, and remembers it as what the assistant said', () => {
    const h = setup();
    h.conv.start();
    h.conv.start();
    h.readyAll();
    expect(h.voice.log).toEqual(['play t1-s0']);
    h.voice.finishAll();
    expect(h.assistantHistory()).toEqual(['Welcome to Acme.']);
  });
});

describe('a caller turn', () => {
  it('answers a quick reply without calling the brain', async () => {
    const h = setup({ tenant: { quickReplies: [{ match: ['opening hours'], reply: 'We are open nine to five.' }] } });
    h.greet();
    h.say('What are your opening hours?');
    await flush();
    expect(h.brain.calls).toHaveLength(0);
    expect(h.synth.texts().at(-1)).toBe('We are open nine to five.');
    h.readyAll();
    h.voice.finishAll();
    expect(h.history.entries().map((e) => `${e.role}: ${e.content}`)).toEqual([
      'assistant: Welcome to Acme.',
      'user: What are your opening hours?',
      'assistant: We are open nine to five.',
    ]);
  });

  it('asks the brain with the transcript, the history before it and the tenant context', async () => {
    const h = setup({ tenant: { assistantContext: { businessName: 'Acme' }, transferProfiles: [{ name: 'sales' }] } });
    h.greet();
    h.say('I need an appointment.');
    const req = h.brain.last.req;
    expect(req).toMatchObject({ tenantId: 'acme', callControlId: 'call-1', transcript: 'I need an appointment.' });
    expect(req.history.map((e) => e.content)).toEqual(['Welcome to Acme.']);
    expect(req.assistantContext).toEqual({ businessName: 'Acme' });
    expect(req.transferProfiles).toEqual([{ name: 'sales' }]);
    await h.answer('Sure, when?');
    h.say('Tomorrow.');
    expect(h.brain.last.req.history.map((e) => `${e.role}: ${e.content}`)).toEqual([
      'assistant: Welcome to Acme.',
      'user: I need an appointment.',
      'assistant: Sure, when?',
    ]);
  });

  it('synthesizes each segment as soon as the brain has produced it, before the reply is complete', async () => {
    const h = setup();
    h.greet();
    h.say('Hours?');
    h.brain.last.token('We open at nine. ');
    expect(h.synth.texts().at(-1)).toBe('We open at nine.');
    h.brain.last.token('We close at five. And on ');
    expect(h.synth.texts().at(-1)).toBe('We close at five.');
    h.ready('We open at nine.');
    expect(h.voice.log.at(-1)).toBe('play t2-s0'); // plays while the brain is still streaming
    h.brain.last.token('Saturdays at noon.');
    h.brain.last.finish();
    await flush();
    expect(h.synth.texts().at(-1)).toBe('And on Saturdays at noon.');
  });

  it('plays segments strictly in order even when they are synthesized out of order', async () => {
    const h = setup();
    h.greet();
    h.say('Tell me.');
    h.brain.last.token('One. Two. Three.');
    h.brain.last.finish();
    await flush();
    h.ready('Three.');
    h.ready('Two.');
    expect(h.voice.log).toEqual(['play t1-s0']); // only the greeting: segment 0 is not ready
    h.ready('One.');
    expect(h.voice.log.slice(1)).toEqual(['play t2-s0', 'play t2-s1', 'play t2-s2']);
    expect(h.voice.queue.map((s) => s.text)).toEqual(['One.', 'Two.', 'Three.']);
  });

  it('returns to listening (dead-air timer armed) only once everything has played', async () => {
    const h = setup({ settings: { deadAirMs: 5000 } });
    h.greet();
    h.say('Hi.');
    await h.answer('Hello.');
    h.say('Two things.');
    h.brain.last.token('First. Second.');
    h.brain.last.finish();
    await flush();
    h.readyAll();
    h.voice.finish();
    jest.advanceTimersByTime(20_000); // still speaking: no dead-air prompt
    expect(h.synth.texts()).not.toContain(PHRASES.stillThere);
    h.voice.finish();
    jest.advanceTimersByTime(5000);
    expect(h.synth.texts().at(-1)).toBe(PHRASES.stillThere);
  });
});

describe('without BRAIN_URL', () => {
  it('the built-in local brain answers (streamed in sentence chunks, the same pipeline)', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
    const brain = createLocalBrain();
    const h = setup({ brain, tenant: { assistantContext: { businessName: 'Acme Dental', hours: 'nine to five' } } });
    h.greet();
    h.say('When are you open?');
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    await flush();
    expect(h.synth.texts().at(-1)).toBe('Our hours are nine to five.');
    h.readyAll();
    h.voice.finishAll();
    expect(h.assistantHistory().at(-1)).toBe('Our hours are nine to five.');
  });
});

describe('history', () => {
  it('stays bounded however long the call', async () => {
    const h = setup({ history: new CallHistory({ maxTurns: 6, maxChars: 4000 }) });
    h.greet();
    for (let i = 0; i < 12; i += 1) {
      h.say(`Question number ${i}?`);
      await h.answer(`Answer number ${i}.`);
    }
    h.say('Last question?');
    const sent = h.brain.last.req.history;
    expect(sent.length).toBeLessThanOrEqual(6);
    expect(sent.at(-1)).toMatchObject({ role: 'assistant', content: 'Answer number 11.' });
    expect(h.history.size).toBeLessThanOrEqual(6);
  });

  it('keeps only the segments the caller heard (a segment whose synthesis failed is not remembered)', async () => {
    const h = setup();
    h.greet();
    h.say('Tell me.');
    h.brain.last.token('Kept one. Lost two. Kept three.');
    h.brain.last.finish();
    await flush();
    h.ready('Kept one.');
    h.ttsFailed('Lost two.');
    h.ready('Kept three.');
    h.voice.finishAll();
    expect(h.assistantHistory().at(-1)).toBe('Kept one. Kept three.');
  });
});
