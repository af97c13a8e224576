/**
 * Fakes for the Conversation unit tests: each records what the conversation does and lets the test drive its events.
 * The brain is the shipped in-memory one (src/lib/brain/fake-brain.ts), held: the test drives each reply.
 */
import type { AgentVoice, PlayableSegment, VoiceEvents } from '../../src/media/conversation/agent-voice';
import type { SegmentSynth } from '../../src/media/conversation/conversation';
import type { CallCommands } from '../../src/media/conversation/url-voice';

/** Plays segments one at a time; the test decides when each starts and ends. */
export class FakeVoice implements AgentVoice {
  readonly log: string[] = [];
  /** Queued segments; [0] is the one playing. */
  queue: PlayableSegment[] = [];
  private started = false;
  /** Share of the playing segment reported as heard by stop(). */
  heardFraction = 0.5;
  closed = false;
  events!: VoiceEvents;

  get busy(): boolean {
    return this.queue.length > 0;
  }

  get ids(): string[] {
    return this.queue.map((s) => s.id);
  }

  play(seg: PlayableSegment): void {
    this.log.push(`play ${seg.id}`);
    this.queue.push(seg);
  }

  stop(): Map<string, number> {
    this.log.push('stop');
    const heard = new Map<string, number>();
    const cur = this.queue[0];
    if (cur && this.started) heard.set(cur.id, this.heardFraction);
    this.queue = [];
    this.started = false;
    return heard;
  }

  onWebhook(eventType: string): void {
    this.log.push(`webhook ${eventType}`);
  }

  onMark(name: string): void {
    this.log.push(`mark ${name}`);
  }

  close(): void {
    this.closed = true;
    this.queue = [];
  }

  /** The playing segment's audio starts reaching the caller. */
  start(): void {
    const cur = this.queue[0];
    if (!cur || this.started) return;
    this.started = true;
    this.events.segmentStarted(cur.id);
  }

  /** The playing segment ends; the voice goes idle when nothing else is queued. */
  finish(): void {
    this.start();
    const cur = this.queue.shift();
    if (!cur) return;
    this.started = false;
    this.events.segmentDone(cur.id);
    if (this.queue.length === 0) this.events.idle();
    else this.start();
  }

  /** Plays everything queued to the end. */
  finishAll(): void {
    while (this.queue.length > 0) this.finish();
  }
}

export interface SynthRequest {
  turnId: number;
  index: number;
  text: string;
  jobId: string;
}

/** Records segment requests; the test resolves them through the conversation (onTtsReady/onTtsFailed). */
export class FakeSynth implements SegmentSynth {
  readonly requests: SynthRequest[] = [];
  readonly cancelled: string[] = [];
  /** When set, request() rejects with this error (the TTS queue is down). */
  rejectWith: Error | undefined;
  /** When set, request() resolves only when the test calls the returned release functions. */
  holdJobIds = false;
  readonly heldJobIds: (() => void)[] = [];

  request(turnId: number, index: number, text: string): Promise<string | undefined> {
    const jobId = `job-${turnId}-${index}`;
    this.requests.push({ turnId, index, text, jobId });
    if (this.rejectWith) return Promise.reject(this.rejectWith);
    if (this.holdJobIds) return new Promise((resolve) => this.heldJobIds.push(() => resolve(jobId)));
    return Promise.resolve(jobId);
  }

  async cancel(jobIds: string[]): Promise<void> {
    this.cancelled.push(...jobIds);
  }

  texts(): string[] {
    return this.requests.map((r) => r.text);
  }
}

export class FakeCommands implements CallCommands {
  readonly issued: { action: string; body: Record<string, unknown> }[] = [];
  /** The retry budget each issued command asked for (undefined: the action's own), by index in `issued`. */
  readonly budgets: (number | undefined)[] = [];

  async issue(_callControlId: string, action: string, body: Record<string, unknown> = {}, opts: { budgetMs?: number } = {}): Promise<unknown> {
    this.issued.push({ action, body });
    this.budgets.push(opts.budgetMs);
    return {};
  }

  actions(): string[] {
    return this.issued.map((c) => c.action);
  }
}
