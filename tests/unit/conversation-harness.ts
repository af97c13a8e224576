/**
 * Setup for the Conversation unit tests: a Conversation wired to the fakes of conversation-fakes.ts,
 * a real CallHistory, and helpers to drive a call. Time is jest's fake clock (timers and Date.now),
 * so dead air, DTMF and barge-in timers are deterministic.
 */
import { CallHistory } from '../../src/lib/brain/history';
import type { Brain } from '../../src/lib/brain/port';
import { createLogger, type Logger } from '../../src/lib/logger';
import { createMetrics } from '../../src/lib/metrics';
import type { UrlPolicy } from '../../src/lib/net/url-policy';
import type { TenantConfig } from '../../src/lib/tenants/tenant-config';
import type { Timers } from '../../src/lib/timers';
import { Conversation, type ConversationSettings } from '../../src/media/conversation/conversation';
import type { FinalTimings } from '../../src/media/ports';
import { FakeBrain } from '../../src/lib/brain/fake-brain';
import { FakeCommands, FakeSynth, FakeVoice, type SynthRequest } from './conversation-fakes';

export { FakeCommands } from './conversation-fakes';

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
  logger?: Logger;
  urlPolicy?: UrlPolicy;
  /** The conversation's timers (default: real timers, i.e. jest's fake clock). */
  timers?: Timers;
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
    urlPolicy: opts.urlPolicy,
    voice,
    brain: opts.brain ?? fakeBrain,
    synth,
    commands,
    speech,
    history,
    settings: { ...SETTINGS, ...opts.settings },
    metrics,
    logger: opts.logger ?? createLogger({ level: 'silent' }),
    now: () => Date.now(),
    timers: opts.timers,
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
      conv.speechStarted();
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
    /** The text of the latest turn's segments (a phrase may be cut into several). */
    lastTurnText: () => {
      const last = synth.requests.at(-1)?.turnId;
      return synth.requests.filter((r) => r.turnId === last).map((r) => r.text).join(' ');
    },
    /** The text queued in the voice. */
    queuedText: () => voice.queue.map((s) => s.text).join(' '),
    /** Current value of a counter for the given labels (0 when never incremented). */
    count: async (name: 'turns' | 'bargeIns' | 'deadAirPrompts', labels: Record<string, string> = {}) => {
      const { values } = await metrics[name].get();
      const v = values.find((x) => Object.entries(labels).every(([k, l]) => (x.labels as Record<string, unknown>)[k] === l));
      return v?.value ?? 0;
    },
    assistantHistory: () => history.entries().filter((e) => e.role === 'assistant').map((e) => e.content),
  };
  return h;
}

export type Harness = ReturnType<typeof setup>;

/** Rejections nobody handled while `fn` ran (one would crash the process in production). */
export async function unhandled(fn: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const on = (reason: unknown) => void seen.push(reason);
  process.on('unhandledRejection', on);
  try {
    await fn();
    // Node reports unhandled rejections after the microtask queue drains: give it two real turns.
    for (let i = 0; i < 2; i += 1) await new Promise((r) => jest.requireActual<typeof import('timers')>('timers').setImmediate(r));
  } finally {
    process.off('unhandledRejection', on);
  }
  return seen;
}

export function useFakeClock(): void {
  beforeEach(() => jest.useFakeTimers({ now: 1_700_000_000_000 }));
  afterEach(() => {
    jest.clearAllTimers();
    jest.useRealTimers();
  });
}
