/**
 * Shared fakes for the Conversation unit tests: a voice, a brain, a segment synth, call commands and
 * speech control that record what the conversation does and let the test drive their events. Time is
 * jest's fake clock (timers and Date.now), so dead air, DTMF and barge-in timers are deterministic.
 */
import { CallHistory } from '../../src/lib/brain/history';
import { brainAborted, BrainError, type Brain, type BrainReplyOptions, type BrainRequest, type BrainResult, type BrainTransfer } from '../../src/lib/brain/types';
import { createLogger } from '../../src/lib/logger';
import { createMetrics } from '../../src/lib/metrics';
import type { TenantConfig } from '../../src/lib/tenants/tenant-config';
import type { AgentVoice, PlayableSegment, VoiceEvents } from '../../src/media/conversation/agent-voice';
import { Conversation, type ConversationSettings, type SegmentSynth } from '../../src/media/conversation/conversation';
import type { CallCommands } from '../../src/media/conversation/url-voice';
import type { FinalTimings } from '../../src/media/session/call-input';

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

export interface BrainCall {
  req: BrainRequest;
  signal: AbortSignal;
  token(text: string): void;
  finish(text?: string, transfer?: BrainTransfer): void;
  fail(err?: Error): void;
}

/** Each reply() waits for the test: tokens, then finish or fail. Abort rejects like the real client. */
export class FakeBrain implements Brain {
  readonly calls: BrainCall[] = [];

  get last(): BrainCall {
    const c = this.calls.at(-1);
    if (!c) throw new Error('the brain was not called');
    return c;
  }

  reply(req: BrainRequest, opts: BrainReplyOptions = {}): Promise<BrainResult> {
    return new Promise<BrainResult>((resolve, reject) => {
      let delivered = '';
      const signal = opts.signal ?? new AbortController().signal;
      signal.addEventListener('abort', () => reject(brainAborted(delivered)), { once: true });
      this.calls.push({
        req,
        signal,
        token: (text) => {
          delivered += text;
          opts.onToken?.(text);
        },
        finish: (text = delivered, transfer) => resolve({ text, streamed: true, source: 'stream', ...(transfer ? { transfer } : {}) }),
        fail: (err = new BrainError('brain_failed', 'brain down', { partialText: delivered })) => reject(err),
      });
    });
  }

  close(): void {}
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

  async issue(_callControlId: string, action: string, body: Record<string, unknown> = {}): Promise<unknown> {
    this.issued.push({ action, body });
    return {};
  }

  actions(): string[] {
    return this.issued.map((c) => c.action);
  }
}

export const SETTINGS: ConversationSettings = {
  greeting: 'Welcome to Acme.',
  deadAirMs: 8000,
  maxDeadAirPrompts: 2,
  segment: { firstMinChars: 80, nextMaxChars: 160, firstAudioMaxMs: 0 },
  backchannelMaxMs: 450,
};

export interface SetupOptions {
  tenant?: Partial<TenantConfig>;
  settings?: Partial<ConversationSettings>;
  brain?: Brain;
  history?: CallHistory;
}

/** Lets promise callbacks (brain results, synth job ids) run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i += 1) await Promise.resolve();
}

export function setup(opts: SetupOptions = {}) {
  const voice = new FakeVoice();
  const fakeBrain = new FakeBrain();
  const synth = new FakeSynth();
  const commands = new FakeCommands();
  const speech = { talking: false, inSpeech: () => speech.talking };
  const history = opts.history ?? new CallHistory();
  const metrics = createMetrics({ defaultMetrics: false });
  const tenant = opts.tenant ? ({ contractVersion: 'v1', tenantId: 'acme', dids: [], caps: {}, ...opts.tenant } as TenantConfig) : undefined;
  const conv = new Conversation({
    callControlId: 'call-1',
    tenantId: 'acme',
    tenant,
    voice,
    brain: opts.brain ?? fakeBrain,
    synth,
    commands,
    speech,
    history,
    settings: { ...SETTINGS, ...opts.settings },
    metrics,
    logger: createLogger({ level: 'silent' }),
    now: () => Date.now(),
  });
  voice.events = conv;

  /** Pending synthesis requests of the current turn that the test has not resolved yet. */
  const settled = new Set<string>();
  const pending = () => synth.requests.filter((r) => !settled.has(r.jobId));
  const find = (text: string) => {
    const r = pending().find((p) => p.text === text);
    if (!r) throw new Error(`no pending synthesis of "${text}" (pending: ${JSON.stringify(pending().map((p) => p.text))})`);
    return r;
  };
  const ready = (r: SynthRequest) => {
    settled.add(r.jobId);
    conv.onTtsReady(r.turnId, r.index, { fileName: `${r.jobId}.wav`, durationMs: 1000, sampleRate: 24000 });
  };
  const h = {
    conv,
    voice,
    brain: fakeBrain,
    synth,
    commands,
    speech,
    history,
    metrics,
    pending,
    /** Synthesis of `text` finished. */
    ready: (text: string) => ready(find(text)),
    /** Synthesis of `text` failed. */
    ttsFailed: (text: string) => {
      const r = find(text);
      settled.add(r.jobId);
      conv.onTtsFailed(r.turnId, r.index, 'kokoro down');
    },
    /** Every pending synthesis finished, in request order. */
    readyAll: () => pending().forEach(ready),
    /** The caller says `text`: speech onset, then (after `ms`) its final transcript. */
    say: (text: string, ms = 600) => {
      h.onset();
      jest.advanceTimersByTime(ms);
      h.final(text);
    },
    onset: () => {
      speech.talking = true;
      conv.speechStarted(Date.now());
    },
    final: (text: string) => {
      speech.talking = false;
      const now = Date.now();
      const timings: FinalTimings = { speechStartAt: now - 1000, speechEndAt: now - 300, endpointAt: now - 100, transcriptAt: now, audioMs: 700 };
      conv.final(text, timings);
    },
    /** start() → greeting synthesized and played to the end → listening. */
    greet: () => {
      conv.start();
      h.readyAll();
      voice.finishAll();
    },
    /** Answers the current brain request with `text` (streamed as one token), synthesizes and plays it. */
    answer: async (text: string) => {
      fakeBrain.last.token(text);
      fakeBrain.last.finish();
      await flush();
      h.readyAll();
      voice.finishAll();
    },
    assistantHistory: () => history.entries().filter((e) => e.role === 'assistant').map((e) => e.content),
  };
  return h;
}

export type Harness = ReturnType<typeof setup>;

export function useFakeClock(): void {
  beforeEach(() => jest.useFakeTimers({ now: 1_700_000_000_000 }));
  afterEach(() => {
    jest.clearAllTimers();
    jest.useRealTimers();
  });
}
