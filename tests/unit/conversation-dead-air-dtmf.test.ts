import { PHRASES } from '../../src/media/conversation/phrases';
import { flush, setup, useFakeClock, type Harness } from './conversation-harness';

useFakeClock();

const DEAD_AIR_MS = 5000;
const prompts = (h: Harness) => h.synth.texts().filter((t) => t === PHRASES.stillThere).length;
/** The latest prompt is synthesized and played to the end. */
const playPrompt = (h: Harness) => {
  h.readyAll();
  h.voice.finishAll();
};

describe('dead air', () => {
  it('"Are you still there?" after DEAD_AIR_MS without caller speech, not before', () => {
    const h = setup({ settings: { deadAirMs: DEAD_AIR_MS } });
    h.greet();
    jest.advanceTimersByTime(DEAD_AIR_MS - 1);
    expect(prompts(h)).toBe(0);
    jest.advanceTimersByTime(1);
    expect(prompts(h)).toBe(1);
    expect(h.assistantHistory()).toEqual(['Welcome to Acme.']); // prompts are not conversation
  });

  it('counts from the end of the greeting, not from the start of the call', () => {
    const h = setup({ settings: { deadAirMs: DEAD_AIR_MS } });
    h.conv.start();
    h.readyAll();
    jest.advanceTimersByTime(DEAD_AIR_MS * 3); // greeting still playing
    expect(prompts(h)).toBe(0);
    h.voice.finishAll();
    jest.advanceTimersByTime(DEAD_AIR_MS);
    expect(prompts(h)).toBe(1);
  });

  it('after a bounded number of unanswered prompts: goodbye, then hangup once it has played', () => {
    const h = setup({ settings: { deadAirMs: DEAD_AIR_MS, maxDeadAirPrompts: 2 } });
    h.greet();
    for (let i = 0; i < 2; i += 1) {
      jest.advanceTimersByTime(DEAD_AIR_MS);
      playPrompt(h);
    }
    expect(prompts(h)).toBe(2);
    jest.advanceTimersByTime(DEAD_AIR_MS);
    expect(h.lastTurnText()).toBe(PHRASES.deadAirGoodbye);
    h.readyAll();
    expect(h.commands.actions()).toEqual([]); // not before the goodbye was heard
    h.voice.finishAll();
    expect(h.commands.actions()).toEqual(['hangup']);
    jest.advanceTimersByTime(DEAD_AIR_MS * 10);
    expect(prompts(h)).toBe(2);
    expect(h.commands.actions()).toEqual(['hangup']);
  });

  it('no prompt while the caller is talking; it comes once the silence has lasted long enough', () => {
    const h = setup({ settings: { deadAirMs: DEAD_AIR_MS } });
    h.greet();
    jest.advanceTimersByTime(DEAD_AIR_MS - 1000);
    h.onset();
    jest.advanceTimersByTime(DEAD_AIR_MS * 2); // a long utterance
    expect(prompts(h)).toBe(0);
    h.speech.talking = false; // ... whose transcript is dropped (filler): no final at all
    jest.advanceTimersByTime(DEAD_AIR_MS * 2);
    expect(prompts(h)).toBe(1);
  });

  it('a blip (discarded onset) neither stops the dead-air timer nor answers a prompt', () => {
    const h = setup({ settings: { deadAirMs: DEAD_AIR_MS, maxDeadAirPrompts: 1 } });
    h.greet();
    jest.advanceTimersByTime(DEAD_AIR_MS);
    playPrompt(h);
    h.onset();
    h.speech.talking = false;
    h.conv.speechDiscarded(); // a cough
    jest.advanceTimersByTime(DEAD_AIR_MS);
    expect(h.lastTurnText()).toBe(PHRASES.deadAirGoodbye);
  });

  it('a caller turn answers the prompts: the count starts over', async () => {
    const h = setup({ settings: { deadAirMs: DEAD_AIR_MS, maxDeadAirPrompts: 1 } });
    h.greet();
    jest.advanceTimersByTime(DEAD_AIR_MS);
    playPrompt(h);
    h.say('Yes, sorry.');
    await h.answer('No problem.');
    jest.advanceTimersByTime(DEAD_AIR_MS);
    expect(h.lastTurnText()).toBe(PHRASES.stillThere);
  });

  it('"yes" said over "Are you still there?" answers it (not taken for a backchannel)', () => {
    const h = setup({ settings: { deadAirMs: DEAD_AIR_MS } });
    h.greet();
    jest.advanceTimersByTime(DEAD_AIR_MS);
    h.readyAll();
    h.voice.start();
    h.say('Yes.', 300);
    expect(h.brain.last.req.transcript).toBe('Yes.');
  });

  it('no prompt while the brain is thinking', async () => {
    const h = setup({ settings: { deadAirMs: DEAD_AIR_MS } });
    h.greet();
    h.say('Hmm, let me think about a question.');
    jest.advanceTimersByTime(DEAD_AIR_MS * 3);
    expect(prompts(h)).toBe(0);
    await h.answer('Take your time.');
    jest.advanceTimersByTime(DEAD_AIR_MS);
    expect(prompts(h)).toBe(1);
  });
});

describe('DTMF', () => {
  it('digits from media frames reach the brain as one debounced input "[DTMF 12]"', async () => {
    const h = setup();
    h.greet();
    h.conv.dtmf('1');
    jest.advanceTimersByTime(500);
    h.conv.dtmf('2');
    jest.advanceTimersByTime(999);
    expect(h.brain.calls).toHaveLength(0);
    jest.advanceTimersByTime(1);
    expect(h.brain.calls.map((c) => c.req.transcript)).toEqual(['[DTMF 12]']);
    expect(h.history.entries().at(-1)).toMatchObject({ role: 'user', content: '[DTMF 12]' });
    await flush();
  });

  it('"#" ends the input at once', () => {
    const h = setup();
    h.greet();
    h.conv.dtmf('4');
    h.conv.onWebhook('call.dtmf.received', { digit: '#' });
    expect(h.brain.last.req.transcript).toBe('[DTMF 4#]');
  });

  it('the same digit from the media stream and the webhook counts once; a repeated key press counts twice', () => {
    const h = setup();
    h.greet();
    h.conv.dtmf('7');
    jest.advanceTimersByTime(50);
    h.conv.onWebhook('call.dtmf.received', { digit: '7' });
    jest.advanceTimersByTime(400);
    h.conv.onWebhook('call.dtmf.received', { digit: '7' });
    jest.advanceTimersByTime(50);
    h.conv.dtmf('7');
    jest.advanceTimersByTime(1000);
    expect(h.brain.last.req.transcript).toBe('[DTMF 77]');
  });

  it('ignores malformed digits', () => {
    const h = setup();
    h.greet();
    h.conv.onWebhook('call.dtmf.received', { digit: 'x' });
    h.conv.onWebhook('call.dtmf.received', { digit: 5 });
    jest.advanceTimersByTime(2000);
    expect(h.brain.calls).toHaveLength(0);
  });

  it('DTMF while the agent speaks takes the turn (playback stopped, reply dropped)', async () => {
    const h = setup();
    h.greet();
    h.say('Menu please.');
    h.brain.last.token('Press one for sales. Press two for support. ');
    await flush();
    h.readyAll();
    h.voice.start();
    h.conv.dtmf('2');
    jest.advanceTimersByTime(1000);
    expect(h.voice.log.at(-1)).toBe('stop');
    expect(h.brain.calls[0]!.signal.aborted).toBe(true);
    expect(h.brain.last.req.transcript).toBe('[DTMF 2]');
  });
});
