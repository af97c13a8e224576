import { flush, setup, useFakeClock, type Harness } from './conversation-harness';

useFakeClock();

const REPLY = 'We have openings at nine in the morning. Also at ten thirty. And late in the afternoon.';

/** Greeting played; the caller asked; the brain streamed REPLY (still open); all three segments synthesized; the first one playing. */
async function speaking(opts: Parameters<typeof setup>[0] = {}): Promise<Harness> {
  const h = setup(opts);
  h.greet();
  h.say('What times do you have?');
  h.brain.last.token(`${REPLY} `); // trailing space: the last sentence is complete too
  await flush();
  h.readyAll();
  h.voice.start();
  expect(h.voice.ids).toEqual(['t2-s0', 't2-s1', 't2-s2']);
  return h;
}

describe('barge-in', () => {
  it('stops playback at the speech onset, before any transcript', async () => {
    const h = await speaking();
    h.onset();
    expect(h.voice.log.at(-1)).toBe('stop');
    expect(h.voice.busy).toBe(false);
    expect(await h.count('bargeIns')).toBe(1);
  });

  it('a real final drops the reply: brain aborted, queued segments and TTS jobs dropped, next turn started', async () => {
    const h = await speaking();
    const reply = h.brain.last;
    h.onset();
    jest.advanceTimersByTime(300);
    h.final('Actually, can I come on Friday?');
    await flush();
    expect(reply.signal.aborted).toBe(true);
    expect(h.synth.cancelled).toEqual(['job-2-0', 'job-2-1', 'job-2-2']);
    expect(h.brain.calls).toHaveLength(2);
    expect(h.brain.last.req.transcript).toBe('Actually, can I come on Friday?');
    // The dropped segments never come back, not even when their late results arrive.
    h.conv.onTtsReady(2, 1, { fileName: 'late.wav', durationMs: 500, sampleRate: 24000 });
    await h.answer('Friday works.');
    expect(h.voice.log.filter((l) => l.startsWith('play t2-'))).toEqual(['play t2-s0', 'play t2-s1', 'play t2-s2']);
    expect(h.voice.log.at(-1)).toBe('play t3-s0');
  });

  it('keeps in history only what the caller heard of the interrupted reply', async () => {
    const h = await speaking();
    h.voice.finish(); // first segment heard in full; the second one half-heard
    h.voice.heardFraction = 0.5;
    h.say('Ten thirty please.');
    const history = h.brain.last.req.history.map((e) => `${e.role}: ${e.content}`);
    expect(history.slice(-2)).toEqual(['user: What times do you have?', 'assistant: We have openings at nine in the morning. Also at…']);
  });

  it('speech lasting longer than backchannelMaxMs confirms the interruption before the transcript', async () => {
    const h = await speaking();
    const reply = h.brain.last;
    h.onset();
    jest.advanceTimersByTime(449);
    expect(reply.signal.aborted).toBe(false);
    jest.advanceTimersByTime(1);
    expect(reply.signal.aborted).toBe(true);
    expect(h.synth.cancelled).toHaveLength(3);
    h.final('No wait, I meant Friday.');
    expect(h.brain.last.req.transcript).toBe('No wait, I meant Friday.');
  });

  describe('backchannelByTranscript (TURN_END_MODE=transcript)', () => {
    it('speech still going on at backchannelMaxMs waits for the transcript: a backchannel resumes the reply, no turn', async () => {
      const h = await speaking({ settings: { backchannelByTranscript: true } });
      const reply = h.brain.last;
      h.voice.finish();
      h.onset();
      jest.advanceTimersByTime(450); // "uh huh" still being said at the check
      expect(reply.signal.aborted).toBe(false);
      h.speech.talking = false;
      h.final('Uh huh.');
      expect(h.brain.calls).toHaveLength(1);
      expect(reply.signal.aborted).toBe(false);
      expect(h.voice.ids).toEqual(['t2-s1', 't2-s2']);
      expect(h.history.entries().filter((e) => e.role === 'user').map((e) => e.content)).toEqual(['What times do you have?']);
    });

    it('a real interruption still takes the turn when its transcript comes', async () => {
      const h = await speaking({ settings: { backchannelByTranscript: true } });
      const reply = h.brain.last;
      h.onset();
      jest.advanceTimersByTime(1200);
      expect(reply.signal.aborted).toBe(false); // playback is stopped since the onset; the reply waits for the verdict
      h.speech.talking = false;
      h.final('Wait, stop, I have a question.');
      await flush();
      expect(reply.signal.aborted).toBe(true);
      expect(h.brain.last.req.transcript).toBe('Wait, stop, I have a question.');
    });

    it('a caller still talking interruptionVerdictMs after the check has taken the turn', async () => {
      const h = await speaking({ settings: { backchannelByTranscript: true } });
      const reply = h.brain.last;
      h.onset();
      jest.advanceTimersByTime(450 + 3000);
      expect(reply.signal.aborted).toBe(true);
      expect(h.synth.cancelled).toHaveLength(3);
    });
  });

  it('a backchannel ("mm-hm") resumes the reply from the interrupted segment', async () => {
    const h = await speaking();
    h.voice.finish(); // the first segment was heard; the caller says "mm-hm" during the second
    h.onset();
    jest.advanceTimersByTime(300);
    h.speech.talking = false;
    jest.advanceTimersByTime(400);
    h.final('Mm-hm.');
    expect(h.brain.calls).toHaveLength(1);
    expect(h.brain.last.signal.aborted).toBe(false);
    expect(h.voice.ids).toEqual(['t2-s1', 't2-s2']);
    // The cut segment goes on where it stopped (half of its 1 s was heard), 400 ms before it; the next from its start.
    expect(h.voice.queue.map((s) => s.fromMs)).toEqual([100, undefined]);
    // A second backchannel half-way through what was left: 100 + 0.5 × 900 = 550 ms heard in all.
    h.voice.start();
    h.onset();
    jest.advanceTimersByTime(300);
    h.speech.talking = false;
    jest.advanceTimersByTime(400);
    h.final('Yeah.');
    expect(h.voice.queue.map((s) => s.fromMs)).toEqual([150, undefined]);
    h.brain.last.finish();
    await flush();
    h.voice.finishAll();
    expect(h.assistantHistory().at(-1)).toBe(REPLY);
    expect(h.history.entries().filter((e) => e.role === 'user').map((e) => e.content)).toEqual(['What times do you have?']);
  });

  it('a blip (onset discarded) resumes the reply; segments synthesized meanwhile are held, then played in order', async () => {
    const h = setup();
    h.greet();
    h.say('Tell me.');
    h.brain.last.token('One. Two. Three.');
    h.brain.last.finish();
    await flush();
    h.ready('One.');
    h.voice.start();
    h.onset();
    h.ready('Two.');
    h.ready('Three.');
    expect(h.voice.busy).toBe(false); // nothing plays over the caller
    h.speech.talking = false;
    h.conv.speechDiscarded();
    expect(h.voice.ids).toEqual(['t2-s0', 't2-s1', 't2-s2']);
  });

  it('speech during a gap between segments (voice idle, reply unfinished) also interrupts', async () => {
    const h = setup();
    h.greet();
    h.say('Tell me.');
    h.brain.last.token('One. Two. ');
    await flush();
    h.ready('One.');
    h.voice.finishAll(); // "One." played; "Two." still being synthesized
    h.onset();
    h.ready('Two.');
    expect(h.voice.busy).toBe(false); // the agent does not start talking over the caller
    jest.advanceTimersByTime(300);
    h.final('Hold on, I have another question.');
    expect(h.brain.calls).toHaveLength(2);
    expect(h.brain.calls[0]!.signal.aborted).toBe(true);
    expect(h.brain.last.req.history.at(-1)).toMatchObject({ role: 'assistant', content: 'One.' });
  });

  it('a transcript that never arrives (filtered filler) does not leave the call stuck: the reply resumes', async () => {
    const h = await speaking();
    h.onset();
    jest.advanceTimersByTime(200);
    h.speech.talking = false; // "um" — the STT result is dropped as filler: no final, no discard
    jest.advanceTimersByTime(10_000);
    expect(h.voice.ids).toEqual(['t2-s0', 't2-s1', 't2-s2']);
  });

  it('speech starting while the brain thinks holds the reply: the agent does not talk over the caller', async () => {
    const h = setup();
    h.greet();
    h.say('First question.');
    h.onset(); // the caller goes on talking
    h.brain.last.token('Answer one. Answer two.');
    h.brain.last.finish();
    await flush();
    h.readyAll();
    expect(h.voice.busy).toBe(false);
    jest.advanceTimersByTime(2000);
    h.final('And a second question.');
    expect(h.brain.calls).toHaveLength(2);
    expect(h.brain.last.req.transcript).toBe('And a second question.');
    expect(h.brain.last.req.history.map((e) => e.content)).toEqual(['Welcome to Acme.', 'First question.']);
  });

  it('a final arriving while the agent speaks (onset before the turn began) interrupts and starts the next turn', async () => {
    const h = setup();
    h.greet();
    h.onset(); // utterance A
    h.onset(); // utterance B begins before A's transcript is back: no reply to interrupt yet
    h.final('First question.');
    h.speech.talking = true;
    h.brain.last.token('Answer one. Answer two. ');
    await flush();
    h.readyAll();
    h.voice.finish();
    h.voice.start(); // "Answer two." half heard
    h.final('And a second question.');
    expect(h.voice.log.at(-1)).toBe('stop');
    expect(h.brain.calls[0]!.signal.aborted).toBe(true);
    expect(h.brain.last.req.transcript).toBe('And a second question.');
    expect(h.brain.last.req.history.map((e) => e.content)).toEqual(['Welcome to Acme.', 'First question.', 'Answer one. Answer…']);
  });

  it('a backchannel said while the agent speaks does not start a turn', async () => {
    const h = await speaking();
    h.final('yeah');
    expect(h.brain.calls).toHaveLength(1);
    expect(h.voice.ids).toEqual(['t2-s0', 't2-s1', 't2-s2']);
  });

  it('does not interrupt while listening (nothing to stop)', async () => {
    const h = setup();
    h.greet();
    h.onset();
    expect(h.voice.log).toEqual(['play t1-s0']);
    expect(await h.count('bargeIns')).toBe(0);
  });

  it('a TTS job id known only after the barge-in is cancelled too', async () => {
    const h = setup();
    h.greet();
    h.synth.holdJobIds = true;
    h.say('Tell me.');
    h.brain.last.token('One. Two. ');
    await flush();
    h.say('Stop, something else.');
    h.synth.heldJobIds.forEach((release) => release());
    await flush();
    expect(h.synth.cancelled.sort()).toEqual(['job-2-0', 'job-2-1']);
  });
});
