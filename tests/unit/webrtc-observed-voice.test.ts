import type { AgentVoice, PlayableSegment, VoiceEvents } from '../../src/media/conversation/agent-voice';
import { ObservedVoice } from '../../src/media/webrtc/observed-voice';

/** A voice that plays nothing by itself: the test fires its events. */
class ScriptedVoice implements AgentVoice {
  played: string[] = [];
  busy = false;
  closed = false;
  constructor(readonly events: VoiceEvents) {}
  play(seg: PlayableSegment): void {
    this.played.push(seg.id);
    this.busy = true;
  }
  stop(): Map<string, number> {
    this.busy = false;
    return new Map([['t1-s0', 0.5]]);
  }
  onWebhook(): void {}
  onMark(): void {}
  close(): void {
    this.closed = true;
  }
}

const seg = (id: string, text: string): PlayableSegment => ({ id, text, fileName: `${id}.wav`, durationMs: 1000, sampleRate: 48000 });

function setup() {
  const seen: string[] = [];
  const downstream: string[] = [];
  const voice = new ObservedVoice(
    { line: (t) => seen.push(`line ${t}`), status: (s) => seen.push(`status ${s}`) },
    { segmentStarted: (id) => downstream.push(`started ${id}`), segmentDone: (id) => downstream.push(`done ${id}`), idle: () => downstream.push('idle') },
  );
  const inner = new ScriptedVoice(voice.events);
  voice.attach(inner);
  return { voice, inner, seen, downstream };
}

describe('ObservedVoice', () => {
  it('reports each line when its audio starts, and the speaking status around it', () => {
    const { voice, inner, seen, downstream } = setup();
    voice.play(seg('t1-s0', 'Hello there.'));
    voice.play(seg('t1-s1', 'How can I help?'));
    expect(seen).toEqual([]);
    inner.events.segmentStarted('t1-s0');
    inner.events.segmentDone('t1-s0');
    inner.events.segmentStarted('t1-s1');
    inner.events.segmentDone('t1-s1');
    inner.events.idle();
    expect(seen).toEqual(['status agent_speaking', 'line Hello there.', 'line How can I help?', 'status listening']);
    expect(downstream).toEqual(['started t1-s0', 'done t1-s0', 'started t1-s1', 'done t1-s1', 'idle']);
    expect(inner.played).toEqual(['t1-s0', 't1-s1']);
  });

  it('on barge-in: back to listening, queued lines are never shown, what was heard is passed through', () => {
    const { voice, inner, seen } = setup();
    voice.play(seg('t1-s0', 'A long answer.'));
    voice.play(seg('t1-s1', 'Never heard.'));
    inner.events.segmentStarted('t1-s0');
    expect(voice.stop()).toEqual(new Map([['t1-s0', 0.5]]));
    inner.events.idle();
    expect(seen).toEqual(['status agent_speaking', 'line A long answer.', 'status listening']);
    voice.close();
    expect(inner.closed).toBe(true);
  });
});
