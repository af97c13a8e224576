import { PHRASES } from '../../src/media/conversation/phrases';
import { flush, SETTINGS, setup, unhandled, useFakeClock } from './conversation-harness';

useFakeClock();

describe('robustness', () => {
  it('a transfer that cannot even be queued is announced, and crashes nothing', async () => {
    const h = setup({ tenant: { transferProfiles: [{ name: 'front desk', to: '+15551234567' }] } });
    h.greet();
    h.commands.issue = () => Promise.reject(new Error('redis down'));
    const seen = await unhandled(async () => {
      h.say('Operator.');
      h.brain.last.finish('', { to: '+15551234567' });
      await flush();
    });
    expect(seen).toEqual([]);
    expect(h.lastTurnText()).toBe(PHRASES.transferFailed);
  });

  it('a hangup or cancel that cannot be queued crashes nothing', async () => {
    const h = setup({ settings: { maxDeadAirPrompts: 0 } });
    h.greet();
    h.commands.issue = () => Promise.reject(new Error('redis down'));
    h.synth.cancel = () => Promise.reject(new Error('redis down'));
    const seen = await unhandled(async () => {
      h.say('Tell me.');
      h.brain.last.token('One. Two. ');
      await flush();
      h.say('Stop.'); // cancels the TTS jobs
      h.brain.last.fail();
      await flush();
      h.readyAll();
      h.voice.finishAll();
      jest.advanceTimersByTime(SETTINGS.deadAirMs);
      h.readyAll();
      h.voice.finishAll(); // goodbye played → hangup
      await flush();
    });
    expect(seen).toEqual([]);
    expect(h.lastTurnText()).toBe(PHRASES.deadAirGoodbye);
  });

  it('a repeated TTS result plays its segment once, and a repeated failure counts once', async () => {
    const h = setup();
    h.greet();
    h.say('Tell me.');
    h.brain.last.token('One. Two.');
    h.brain.last.finish();
    await flush();
    const seg = { fileName: 'a.wav', durationMs: 500, sampleRate: 24000 };
    h.conv.onTtsReady(2, 1, seg);
    h.conv.onTtsReady(2, 1, seg);
    h.conv.onTtsReady(2, 0, seg);
    h.conv.onTtsReady(2, 0, seg);
    expect(h.voice.log.slice(1)).toEqual(['play t2-s0', 'play t2-s1']);
    h.voice.finishAll();
    h.say('More.');
    h.brain.last.token('Three. Four.');
    h.brain.last.finish();
    await flush();
    h.conv.onTtsFailed(3, 0, 'kokoro down');
    h.conv.onTtsFailed(3, 0, 'kokoro down');
    h.conv.onTtsReady(3, 1, seg);
    h.voice.finishAll();
    expect(h.voice.log.at(-1)).toBe('play t3-s1');
    expect(h.commands.issued).toEqual([]); // "Four." was heard: no apology
  });
});
