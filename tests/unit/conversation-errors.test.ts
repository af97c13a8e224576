import { BrainError } from '../../src/lib/brain/port';
import { PHRASES } from '../../src/media/conversation/phrases';
import { flush, setup, useFakeClock } from './conversation-harness';

useFakeClock();

const SPEAK_APOLOGY = { action: 'speak', body: { payload: PHRASES.apology, voice: 'female', language: 'en-US' } };

describe('failures are audible as a short apology, never silence', () => {
  it('brain failure → apology', async () => {
    const h = setup();
    h.greet();
    h.say('Hello?');
    h.brain.last.fail();
    await flush();
    expect(h.lastTurnText()).toBe(PHRASES.apology);
    h.readyAll();
    expect(h.queuedText()).toBe(PHRASES.apology);
    expect(await h.count('turns', { source: 'error' })).toBe(1);
  });

  it('brain failure after part of the reply was spoken: that part stays, and is all history keeps', async () => {
    const h = setup();
    h.greet();
    h.say('Hello?');
    h.brain.last.token('Let me check that. One moment while I');
    await flush();
    h.brain.last.fail();
    await flush();
    expect(h.synth.texts().slice(1)).toEqual(['Let me check that.']);
    h.readyAll();
    h.voice.finishAll();
    expect(h.assistantHistory().at(-1)).toBe('Let me check that.');
  });

  it('brain failure before the first segment: apology, and the unspoken partial text is not in history', async () => {
    const h = setup();
    h.greet();
    h.say('Hello?');
    h.brain.last.token('Let me');
    h.brain.last.fail(new BrainError('brain_timeout', 'too slow', { partialText: 'Let me' }));
    await flush();
    h.readyAll();
    h.voice.finishAll();
    expect(h.lastTurnText()).toBe(PHRASES.apology);
    expect(h.assistantHistory().join(' ')).not.toContain('Let me');
  });

  it('an empty brain reply (no text, no transfer) → apology', async () => {
    const h = setup();
    h.greet();
    h.say('Hello?');
    h.brain.last.finish('');
    await flush();
    expect(h.lastTurnText()).toBe(PHRASES.apology);
  });

  it('STT failure → apology', () => {
    const h = setup();
    h.greet();
    h.onset();
    h.conv.sttError(new Error('whisper timeout'));
    expect(h.lastTurnText()).toBe(PHRASES.apology);
    expect(h.brain.calls).toHaveLength(0);
  });

  it('STT failure after a barge-in → the reply is dropped and the apology said', async () => {
    const h = setup();
    h.greet();
    h.say('Tell me.');
    h.brain.last.token('One. Two. ');
    await flush();
    h.readyAll();
    h.voice.start();
    h.onset();
    h.conv.sttError(new Error('whisper down'));
    expect(h.brain.last.signal.aborted).toBe(true);
    h.readyAll();
    expect(h.queuedText()).toBe(PHRASES.apology);
  });

  it('TTS failure of every segment → apology through Telnyx speak', async () => {
    const h = setup();
    h.greet();
    h.say('Hello?');
    h.brain.last.token('One. Two.');
    h.brain.last.finish();
    await flush();
    h.ttsFailed('Two.');
    expect(h.commands.issued).toEqual([]);
    h.ttsFailed('One.');
    expect(h.commands.issued).toEqual([SPEAK_APOLOGY]);
  });

  it('TTS failure before the brain has finished still ends in an apology', async () => {
    const h = setup();
    h.greet();
    h.say('Hello?');
    h.brain.last.token('Sure thing. ');
    await flush();
    h.ttsFailed('Sure thing.');
    h.brain.last.finish();
    await flush();
    expect(h.commands.issued).toEqual([SPEAK_APOLOGY]);
  });

  it('TTS queue unavailable (request rejects) → apology through Telnyx speak', async () => {
    const h = setup();
    h.greet();
    h.synth.rejectWith = new Error('redis down');
    h.say('Hello?');
    h.brain.last.token('Sure thing.');
    h.brain.last.finish();
    await flush();
    expect(h.commands.issued).toEqual([SPEAK_APOLOGY]);
  });

  it('a failure of one segment among others is no reason to apologize', async () => {
    const h = setup();
    h.greet();
    h.say('Hello?');
    h.brain.last.token('One. Two.');
    h.brain.last.finish();
    await flush();
    h.ready('One.');
    h.ttsFailed('Two.');
    h.voice.finishAll();
    expect(h.commands.issued).toEqual([]);
  });
});

describe('transfer', () => {
  // Transfers go only to destinations the tenant config allows (conversation-transfer.test.ts).
  const tenant = { transferProfiles: [{ name: 'front desk', to: '+15551234567' }, { name: 'desk', to: 'sip:desk@example.com' }] };

  it('says the text, then transfers with to, audio_url and timeout_secs', async () => {
    const h = setup({ tenant });
    h.greet();
    h.say('I want a human.');
    h.brain.last.token('Let me transfer you.');
    h.brain.last.finish(undefined, { to: '+15551234567', audioUrl: 'https://x/hold.mp3', timeoutSecs: 30 });
    await flush();
    h.readyAll();
    expect(h.commands.issued).toEqual([]); // not while the text is still to be said
    h.voice.finishAll();
    expect(h.commands.issued).toEqual([{ action: 'transfer', body: { to: '+15551234567', audio_url: 'https://x/hold.mp3', timeout_secs: 30 } }]);
    jest.advanceTimersByTime(60_000);
    expect(h.synth.texts()).not.toContain(PHRASES.stillThere); // no dead-air prompts while transferring
  });

  it('a transfer without text or options transfers at once', async () => {
    const h = setup({ tenant });
    h.greet();
    h.say('Operator.');
    h.brain.last.finish('', { to: 'sip:desk@example.com' });
    await flush();
    expect(h.commands.issued).toEqual([{ action: 'transfer', body: { to: 'sip:desk@example.com' } }]);
  });

  it('a failed transfer is announced, then the call goes on', async () => {
    const h = setup({ tenant });
    h.greet();
    h.say('Operator.');
    h.brain.last.finish('', { to: '+15551234567' });
    await flush();
    h.conv.onCommandFailed('transfer');
    expect(h.lastTurnText()).toBe(PHRASES.transferFailed);
    h.readyAll();
    h.voice.finishAll();
    h.say('Never mind then.');
    expect(h.brain.last.req.transcript).toBe('Never mind then.');
  });

  it('other failed commands are not announced as a failed transfer', () => {
    const h = setup();
    h.greet();
    h.conv.onCommandFailed('playback_start');
    expect(h.synth.texts()).toEqual(['Welcome to Acme.']);
  });
});

describe('end of the call', () => {
  it('runtime.max_duration: the session goes quiet (reply dropped, no prompts, no new turns)', async () => {
    const h = setup();
    h.greet();
    h.say('Tell me.');
    h.brain.last.token('One. Two. ');
    await flush();
    h.readyAll();
    h.conv.onWebhook('runtime.max_duration', {});
    expect(h.voice.busy).toBe(false);
    expect(h.brain.last.signal.aborted).toBe(true);
    const requests = h.synth.requests.length;
    h.say('Hello?');
    h.conv.onWebhook('call.dtmf.received', { digit: '1' });
    h.conv.onCommandFailed('transfer');
    h.conv.sttError(new Error('x'));
    jest.advanceTimersByTime(120_000);
    expect(h.brain.calls).toHaveLength(1);
    expect(h.synth.requests).toHaveLength(requests);
    expect(h.commands.issued).toEqual([]);
  });

  it('call.hangup closes everything: brain aborted, voice closed, timers gone', async () => {
    const h = setup();
    h.greet();
    h.say('Tell me.');
    h.conv.onWebhook('call.dtmf.received', { digit: '5' });
    h.conv.onWebhook('call.hangup', {});
    expect(h.brain.last.signal.aborted).toBe(true);
    expect(h.voice.closed).toBe(true);
    expect(jest.getTimerCount()).toBe(0);
    h.conv.onTtsReady(2, 0, { fileName: 'late.wav', durationMs: 100, sampleRate: 24000 });
    expect(h.voice.busy).toBe(false);
  });

  it('other webhooks and marks are routed to the voice', () => {
    const h = setup();
    h.conv.onWebhook('call.playback.ended', {});
    h.conv.onMark('t1-s0');
    expect(h.voice.log).toEqual(['webhook call.playback.ended', 'mark t1-s0']);
  });
});
