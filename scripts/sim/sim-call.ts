/**
 * One simulated phone call (the Telnyx side of it) and the types that describe calls: codecs, the
 * caller's script, the simulator's events. The simulator (simulator.ts) drives it.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { nativeRate, type Encoder, type Encoding } from '../../src/media/audio/codecs';
import type { RecordedCommand } from './call-control-api';
import type { MediaStreamClient } from './media-client';
import { CallRecorder } from './recording';

export type SimCodec = 'PCMU' | 'PCMA' | 'L16' | 'G722' | 'OPUS';
export const SIM_CODECS: readonly SimCodec[] = ['PCMU', 'PCMA', 'L16', 'G722', 'OPUS'];

/** Rate of the caller audio we send per codec (what `start.media_format.sample_rate` announces). */
export function callerRate(codec: SimCodec): number {
  return codec === 'PCMU' || codec === 'PCMA' ? 8000 : 16000;
}

/** Caller audio goes out in 20 ms frames (Telnyx media streams use 20 ms packets). */
export const FRAME_MS = 20;

export type CallerStep =
  /** Speak: PCM at any rate (resampled to the codec rate). */
  | { say: Int16Array; sampleRate: number; text?: string; index?: number }
  | { silenceMs: number }
  /** Silence until the agent has said something since this step began and then been quiet for `quietMs` (or `timeoutMs` passed). */
  | { waitForAgent: { quietMs?: number; timeoutMs?: number } }
  | { hangup: true };

export type CallerAudio =
  /** A plain recording, streamed once, then silence. */
  | { pcm: Int16Array; sampleRate: number }
  /** Steps run in order (any iterable: a generator can loop until a deadline); the caller hangs up at the end. */
  | { script: Iterable<CallerStep> };

export interface PlaceCallOptions {
  to: string;
  from?: string;
  /** The caller's codec; the media stream uses the runtime's `stream_codec` when it asks for one. */
  codec?: SimCodec;
  callerAudio?: CallerAudio;
  /** Resolve/reject placeCall when no `answer` arrives within this (default 15 s). */
  answerTimeoutMs?: number;
  /** Record both sides for `call.recorder.toWav()` (default false). */
  record?: boolean;
  /** Hang up this long after the media stream came up, whatever the script does. */
  maxDurationMs?: number;
}

export type SimEvent =
  | { type: 'webhook'; call: SimCall; eventType: string; status: number; ms: number; attempt: number; error?: string }
  | { type: 'command'; call: SimCall; action: string; body: Record<string, unknown> }
  | { type: 'media_connected'; call: SimCall; codec: SimCodec; ms: number; restart: boolean }
  | { type: 'media_closed'; call: SimCall; code: number; reason: string; expected: boolean }
  | { type: 'media_failed'; call: SimCall; error: string }
  | { type: 'utterance'; call: SimCall; phase: 'start' | 'end'; index?: number; text?: string }
  | { type: 'playback'; call: SimCall; phase: 'started' | 'ended'; url: string; durationMs: number; status?: string }
  | { type: 'speak'; call: SimCall; phase: 'started' | 'ended'; text: string }
  | { type: 'wait_timeout'; call: SimCall }
  /** The agent became audible after a silence (a reply, prompt or greeting starts playing). */
  | { type: 'agent_audio'; call: SimCall; at: number }
  | { type: 'ended'; call: SimCall; by: 'caller' | 'runtime' };

/** What a call asks of the simulator that placed it. */
export interface CallHost {
  endCall(call: SimCall, by: 'caller' | 'runtime'): Promise<void>;
  webhook(call: SimCall, eventType: string, payload?: Record<string, unknown>): Promise<WebhookResult>;
}

/** The caller's side of the audio, one 20 ms frame per call to next() (caller-runner.ts). */
export interface CallerFrames {
  setRate(rate: number): void;
  next(now: number): Int16Array | null;
}

export interface WebhookResult {
  status: number;
  ms: number;
  attempts: number;
  error?: string;
}

export interface Playback {
  url: string;
  samples?: Int16Array;
  rate: number;
  durationMs: number;
  startedAt?: number;
  timer?: NodeJS.Timeout;
  fetching: boolean;
  cancelled: boolean;
}

/** One simulated phone call (the Telnyx side of it). */
export class SimCall extends EventEmitter {
  readonly legId = randomUUID();
  readonly sessionId = randomUUID();
  state: 'initiated' | 'answered' | 'ended' = 'initiated';
  clientState: string | undefined;
  /** Codec of the current media stream (stream_codec of answer / streaming_start, else the caller's). */
  mediaCodec: SimCodec;
  agentCodec: Encoding;
  agentRate: number;
  media: MediaStreamClient | undefined;
  mediaStreams = 0;
  readonly recorder: CallRecorder | undefined;
  /** performance.now() timestamps. */
  readonly createdAt = performance.now();
  initiatedAt: number | undefined;
  answerAt: number | undefined;
  mediaOpenAt: number | undefined;
  endedAt: number | undefined;
  endedBy: 'caller' | 'runtime' | undefined;
  /** call.initiated sent → answer received; answer received → media socket open. */
  setupMs: number | undefined;
  mediaConnectMs: number | undefined;
  framesSent = 0;
  framesSkipped = 0;
  /**
   * Per change of media stream: the last caller frame sent on the old socket → the first one sent on
   * the new socket, ms (performance.now() at the moment of sending). What a re-pointed stream costs
   * the caller's audio.
   */
  readonly streamSwitchGapsMs: number[] = [];
  /** @internal */ lastFrameSentAt: number | undefined;
  /** @internal */ lastFrameStream: unknown;
  /** Marks the runtime sent / we echoed once played, clears obeyed, agent media messages (all streams of the call). */
  marksReceived = 0;
  marksEchoed = 0;
  clears = 0;
  agentMessages = 0;
  webhooksSent = 0;
  webhookFailures = 0;
  /** Media sockets the runtime closed while the call was up (other than replacing them). */
  unexpectedCloses: { code: number; reason: string }[] = [];
  mediaErrors: string[] = [];
  readonly commands: RecordedCommand[] = [];
  readonly playbacks: { url: string; durationMs: number; status: string }[] = [];
  readonly utterances: { index?: number; text?: string; startAt: number; endAt?: number }[] = [];
  waitTimeouts = 0;
  /** Agent audio: when it last started arriving/playing, and until when it plays. */
  lastAgentAudioAt = 0;
  agentBusyUntil = 0;
  agentAudioMs = 0;
  /** performance.now() of each moment the agent became audible after a silence. */
  readonly agentSpurts: number[] = [];
  readonly ended: Promise<void>;
  /** @internal */ endResolve!: () => void;
  /** @internal */ webhookChain: Promise<unknown> = Promise.resolve();
  /** @internal */ encoder: Encoder | undefined;
  /** @internal */ nextFrameAt = 0;
  /** @internal */ runner: CallerFrames | undefined;
  /** @internal */ playQueue: Playback[] = [];
  /** @internal */ timers = new Set<NodeJS.Timeout>();

  /** @internal */ readonly callerAudio: CallerAudio | undefined;
  /** @internal */ readonly maxDurationMs: number | undefined;

  constructor(
    readonly id: string,
    o: PlaceCallOptions,
    private readonly sim: CallHost,
  ) {
    super();
    this.from = o.from ?? '+15550001111';
    this.to = o.to;
    this.codec = o.codec ?? 'PCMU';
    this.callerAudio = o.callerAudio;
    this.maxDurationMs = o.maxDurationMs;
    this.mediaCodec = this.codec;
    this.agentCodec = this.codec;
    this.agentRate = nativeRate(this.codec);
    this.recorder = o.record ? new CallRecorder() : undefined;
    this.ended = new Promise((resolve) => (this.endResolve = resolve));
  }

  readonly from: string;
  readonly to: string;
  /** The caller's codec (the stream may use the one the runtime asked for instead). */
  readonly codec: SimCodec;

  get isUp(): boolean {
    return this.state !== 'ended';
  }

  /** The agent is audible right now (streamed audio still playing, or a playback running). */
  agentSpeaking(now = performance.now()): boolean {
    return this.agentBusyUntil > now;
  }

  /** The caller hangs up: media `stop`, socket closed, `call.hangup` (hangup_source caller). */
  hangup(): Promise<void> {
    return this.sim.endCall(this, 'caller');
  }

  /** A DTMF digit: on the media stream, as a `call.dtmf.received` webhook, or both (as Telnyx may do). */
  dtmf(digit: string, via: 'media' | 'webhook' | 'both' = 'media'): void {
    if (via !== 'webhook') this.media?.dtmf(digit);
    if (via !== 'media') void this.sim.webhook(this, 'call.dtmf.received', { digit });
  }

  /** @internal */
  later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }
}
