import type { AgentVoice, PlayableSegment, VoiceEvents } from '../conversation/agent-voice';
import type { AgentStatus } from './hd-call-messages';

export interface VoiceObserver {
  /** The agent started saying this line (its first audio frame went out). */
  line(text: string): void;
  status(s: AgentStatus): void;
}

/**
 * An AgentVoice that tells the page what the agent says and whether it is speaking: wraps the
 * stream voice, remembers each queued segment's text until its first frame is sent, and reports
 * status changes (speaking on a segment's start, listening when idle or interrupted).
 * Bounded: a text is kept only while its segment is queued or playing.
 */
export class ObservedVoice implements AgentVoice {
  private readonly texts = new Map<string, string>();
  private speaking = false;
  readonly events: VoiceEvents;
  private inner: AgentVoice | undefined;

  constructor(
    private readonly observer: VoiceObserver,
    downstream: VoiceEvents,
  ) {
    this.events = {
      segmentStarted: (id) => {
        const text = this.texts.get(id);
        this.texts.delete(id);
        this.setSpeaking(true);
        if (text) observer.line(text);
        downstream.segmentStarted(id);
      },
      segmentDone: (id) => {
        this.texts.delete(id);
        downstream.segmentDone(id);
      },
      idle: () => {
        this.setSpeaking(false);
        downstream.idle();
      },
    };
  }

  /** The voice that plays (built with `this.events`, so it is attached after construction). */
  attach(inner: AgentVoice): this {
    this.inner = inner;
    return this;
  }

  private get voice(): AgentVoice {
    if (!this.inner) throw new Error('ObservedVoice used before attach()');
    return this.inner;
  }

  get busy(): boolean {
    return this.voice.busy;
  }

  play(seg: PlayableSegment): void {
    this.texts.set(seg.id, seg.text);
    this.voice.play(seg);
  }

  stop(): Map<string, number> {
    this.texts.clear();
    const heard = this.voice.stop();
    this.setSpeaking(false);
    return heard;
  }

  onWebhook(eventType: string, payload: Record<string, unknown>): void {
    this.voice.onWebhook(eventType, payload);
  }

  onMark(name: string): void {
    this.voice.onMark(name);
  }

  close(): void {
    this.texts.clear();
    this.voice.close();
  }

  private setSpeaking(on: boolean): void {
    if (on === this.speaking) return;
    this.speaking = on;
    this.observer.status(on ? 'agent_speaking' : 'listening');
  }
}
