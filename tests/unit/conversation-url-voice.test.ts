import { UrlVoice } from '../../src/media/conversation/url-voice';
import { FakeCommands, unhandled, useFakeClock } from './conversation-harness';

useFakeClock();

const seg = (id: string, durationMs = 1000) => ({ id, fileName: `${id}.wav`, durationMs, sampleRate: 24000, text: id });

function setup() {
  const commands = new FakeCommands();
  const events: string[] = [];
  const voice = new UrlVoice('call-1', commands, 'https://rt.example/audio/', {
    segmentStarted: (id) => void events.push(`started ${id}`),
    segmentDone: (id) => void events.push(`done ${id}`),
    idle: () => void events.push('idle'),
  }, () => Date.now());
  return { voice, commands, events };
}

describe('UrlVoice (playback_start per segment)', () => {
  it('plays one segment at a time, in order, the next when Telnyx reports the end', () => {
    const { voice, commands, events } = setup();
    voice.play(seg('a'));
    voice.play(seg('b'));
    expect(commands.issued).toEqual([{ action: 'playback_start', body: { audio_url: 'https://rt.example/audio/a.wav' } }]);
    voice.onWebhook('call.playback.started');
    voice.onWebhook('call.playback.ended');
    expect(commands.issued.map((c) => c.body.audio_url)).toEqual(['https://rt.example/audio/a.wav', 'https://rt.example/audio/b.wav']);
    voice.onWebhook('call.playback.started');
    voice.onWebhook('call.playback.ended');
    expect(events).toEqual(['started a', 'done a', 'started b', 'done b', 'idle']);
    expect(voice.busy).toBe(false);
  });

  it('retries a playback_start only while its segment is current (its length plus the end grace)', () => {
    const { voice, commands } = setup();
    voice.play(seg('a', 2000));
    voice.stop();
    expect(commands.actions()).toEqual(['playback_start', 'playback_stop']);
    expect(commands.budgets).toEqual([2000 + 3000, undefined]);
  });

  it('stop: playback_stop at once, queue dropped, heard share reported, the stopped playback\'s end ignored', () => {
    const { voice, commands, events } = setup();
    voice.play(seg('a', 2000));
    voice.play(seg('b'));
    voice.onWebhook('call.playback.started');
    jest.advanceTimersByTime(500);
    expect(voice.stop()).toEqual(new Map([['a', 0.25]]));
    expect(commands.actions()).toEqual(['playback_start', 'playback_stop']);
    expect(voice.busy).toBe(false);
    voice.play(seg('c'));
    voice.onWebhook('call.playback.ended'); // the stopped one's end: c is still playing
    expect(voice.busy).toBe(true);
    voice.onWebhook('call.playback.ended');
    expect(events).toEqual(['started a', 'done c', 'idle']);
  });

  it('moves on when Telnyx never reports the end, and survives commands that cannot be queued', async () => {
    const { voice, commands, events } = setup();
    commands.issue = () => Promise.reject(new Error('redis down'));
    const seen = await unhandled(async () => {
      voice.play(seg('a', 1000));
      voice.play(seg('b', 1000));
      jest.advanceTimersByTime(4000);
      voice.stop();
    });
    expect(seen).toEqual([]);
    expect(events).toEqual(['done a']);
  });
});
