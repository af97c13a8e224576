/**
 * The conversation's phase changes in one place (setPhase), which ends what the old phase owned:
 * each transition leaves exactly the timers of the new phase armed, and an event meant for
 * another phase changes nothing. Timers run on a ManualTime, so the armed ones can be counted.
 */
import { ManualTime } from '../../src/lib/manual-timers';
import { PHRASES } from '../../src/media/conversation/phrases';
import { flush, SETTINGS, setup, useFakeClock } from './conversation-harness';

useFakeClock();

function listeningCall() {
  const time = new ManualTime();
  const h = setup({ timers: time, tenant: { transferProfiles: [{ name: 'sales', to: '+15550001111' }] } });
  h.greet();
  return { h, time };
}

/** The caller asked, and the reply's first segment is playing. */
async function replying() {
  const c = listeningCall();
  c.h.say('What are your opening hours?');
  c.h.brain.last.token('We open at nine. ');
  c.h.brain.last.finish();
  await flush();
  c.h.readyAll();
  return c;
}

describe('conversation phase transitions', () => {
  it('idle → responding → listening: only the dead-air timer is armed while listening', () => {
    const time = new ManualTime();
    const h = setup({ timers: time });
    expect(h.conv.phaseKind).toBe('idle');
    h.conv.start();
    expect(h.conv.phaseKind).toBe('responding');
    expect(time.pendingTimers).toBe(0);
    h.readyAll();
    h.voice.finishAll();
    expect(h.conv.phaseKind).toBe('listening');
    expect(time.dueTimes).toEqual([SETTINGS.deadAirMs]);
  });

  it('listening → responding: a caller turn cancels the dead-air timer', () => {
    const { h, time } = listeningCall();
    h.say('Hello?');
    expect(h.conv.phaseKind).toBe('responding');
    expect(time.pendingTimers).toBe(0);
  });

  it('listening → responding on an STT error: the dead-air timer does not outlive the listening phase', () => {
    const { h, time } = listeningCall();
    h.conv.sttError(new Error('whisper down'));
    expect(h.conv.phaseKind).toBe('responding');
    expect(h.lastTurnText()).toBe(PHRASES.apology);
    expect(time.pendingTimers).toBe(0);
  });

  it('listening → listening on a speech onset: the dead-air timer is replaced, not doubled', () => {
    const { h, time } = listeningCall();
    time.advance(5000);
    h.onset();
    expect(h.conv.phaseKind).toBe('listening');
    expect(time.dueTimes).toEqual([5000 + SETTINGS.deadAirMs]);
  });

  it('responding → interrupted → interrupted → responding: one verdict timer at a time, none after the verdict', async () => {
    const { h, time } = await replying();
    h.onset();
    expect(h.conv.phaseKind).toBe('interrupted');
    expect(time.dueTimes).toEqual([SETTINGS.backchannelMaxMs]);
    h.speech.talking = false;
    time.advance(SETTINGS.backchannelMaxMs); // quiet again: wait for the transcript
    expect(h.conv.phaseKind).toBe('interrupted');
    expect(time.pendingTimers).toBe(1);
    h.final('mm-hm'); // a backchannel: the reply resumes
    expect(h.conv.phaseKind).toBe('responding');
    expect(time.pendingTimers).toBe(0);
  });

  it('interrupted → listening when the caller keeps talking: the verdict timer gives way to dead air', async () => {
    const { h, time } = await replying();
    h.onset();
    time.advance(SETTINGS.backchannelMaxMs); // still talking
    expect(h.conv.phaseKind).toBe('listening');
    expect(time.dueTimes).toEqual([SETTINGS.backchannelMaxMs + SETTINGS.deadAirMs]);
  });

  it('interrupted → responding on a real turn: the verdict timer is cancelled', async () => {
    const { h, time } = await replying();
    h.onset();
    h.final('Actually, are you open on Sunday?');
    expect(h.conv.phaseKind).toBe('responding');
    expect(time.pendingTimers).toBe(0);
  });

  it('responding → transferring: no dead-air timer while the transfer is under way', async () => {
    const { h, time } = listeningCall();
    h.say('Sales, please.');
    h.brain.last.token('Connecting you.');
    h.brain.last.finish(undefined, { to: '+15550001111' });
    await flush();
    h.readyAll();
    h.voice.finishAll();
    expect(h.conv.phaseKind).toBe('transferring');
    expect(time.pendingTimers).toBe(0);
  });

  it('→ ending on max duration and → ended on hangup: every timer (DTMF included) is cancelled', async () => {
    const { h, time } = await replying();
    h.onset();
    h.conv.dtmf('1');
    expect(time.pendingTimers).toBe(2); // barge-in verdict + DTMF idle
    h.conv.onWebhook('runtime.max_duration', {});
    expect(h.conv.phaseKind).toBe('ending');
    expect(time.pendingTimers).toBe(0);
    h.conv.onWebhook('call.hangup', {});
    expect(h.conv.phaseKind).toBe('ended');
    expect(time.pendingTimers).toBe(0);
  });
});

describe('events for another phase are ignored', () => {
  it('while listening: a discarded blip, an idle voice and a repeated start change nothing', () => {
    const { h, time } = listeningCall();
    const requests = h.synth.requests.length;
    h.conv.speechDiscarded();
    h.conv.idle();
    h.conv.start();
    expect(h.conv.phaseKind).toBe('listening');
    expect(time.dueTimes).toEqual([SETTINGS.deadAirMs]);
    expect(h.synth.requests.length).toBe(requests);
  });

  it('while responding: a backchannel is not a turn, and a late TTS result of a dropped turn is not played', async () => {
    const { h } = await replying();
    const turnId = h.synth.requests.at(-1)!.turnId;
    h.final('yeah');
    expect(h.conv.phaseKind).toBe('responding');
    expect(h.brain.calls.length).toBe(1);
    h.say('Wait, one more question.');
    const played = h.voice.log.length;
    h.conv.onTtsReady(turnId, 1, { fileName: 'late.wav', durationMs: 1000, sampleRate: 24000 });
    expect(h.voice.log.length).toBe(played);
  });

  it('once ended: caller speech, transcripts, DTMF and TTS results start nothing', () => {
    const { h, time } = listeningCall();
    h.conv.close();
    const requests = h.synth.requests.length;
    h.say('Hello?');
    h.conv.dtmf('#');
    h.conv.sttError(new Error('late'));
    h.conv.onTtsReady(1, 0, { fileName: 'late.wav', durationMs: 1000, sampleRate: 24000 });
    expect(h.conv.phaseKind).toBe('ended');
    expect(h.synth.requests.length).toBe(requests);
    expect(h.brain.calls.length).toBe(0);
    expect(time.pendingTimers).toBe(0);
  });
});
