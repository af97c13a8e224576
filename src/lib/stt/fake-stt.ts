/**
 * An in-memory SpeechToText for tests and offline runs: no network, deterministic answers. Each
 * transcribe() is recorded, waits `latencyMs` on the injected timers (0 = answers on the next
 * microtask), then answers the next scripted text, or `utterance N` (N counts answers from 1) once
 * the script runs out. `failNext` makes the next answers fail like an unreachable service.
 * It keeps the port's promises (tests/integration/stt-contract.test.ts runs the same contract against it
 * and the Whisper client): empty audio refused with `stt_failed` 400, the caller's signal →
 * `stt_aborted`, failures → retryable `stt_failed`, text trimmed.
 */
import { AppError } from '../errors';
import { abortedError } from '../limiter';
import { abortableDelay, realTimers, type Timers } from '../timers';
import type { SpeechToText, TranscribeRequest, Transcript } from './port';

/** A scripted answer: text, or a function of the request (e.g. echoing its length). */
export type FakeSttAnswer = string | ((req: TranscribeRequest) => string);

export interface FakeSttOptions {
  script?: FakeSttAnswer[];
  latencyMs?: number;
  timers?: Timers;
  /** Keep at most this many recorded requests (oldest dropped first); default 1000. */
  maxRecorded?: number;
}

export interface FakeSttRequest {
  url: string;
  language?: string;
  prompt?: string;
  /** A copy of the audio sent (the caller may reuse its buffer). */
  pcm16k: Int16Array;
}

export class FakeSpeechToText implements SpeechToText {
  /** Every request that reached the fake (refused empty audio excluded), oldest first. */
  readonly requests: FakeSttRequest[] = [];
  private readonly script: FakeSttAnswer[];
  private readonly timers: Timers;
  private readonly maxRecorded: number;
  private latencyMs: number;
  private failures = 0;
  private answered = 0;
  private active = 0;

  constructor(opts: FakeSttOptions = {}) {
    this.script = [...(opts.script ?? [])];
    this.latencyMs = opts.latencyMs ?? 0;
    this.timers = opts.timers ?? realTimers;
    this.maxRecorded = opts.maxRecorded ?? 1000;
  }

  /** Requests waiting for their answer right now. */
  get inFlight(): number {
    return this.active;
  }

  /** Appends answers to the script. */
  say(...answers: FakeSttAnswer[]): void {
    this.script.push(...answers);
  }

  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  /** The next `times` requests fail with a retryable `stt_failed` (a service outage). */
  failNext(times = 1): void {
    this.failures += times;
  }

  async transcribe(req: TranscribeRequest): Promise<Transcript> {
    const started = this.timers.now();
    if (req.signal?.aborted) throw abortedError('stt', req.signal.reason);
    if (req.pcm16k.length === 0) throw new AppError('stt_failed', 'nothing to transcribe: no audio', { status: 400 });
    this.requests.push({ url: req.url, language: req.language, ...(req.prompt ? { prompt: req.prompt } : {}), pcm16k: req.pcm16k.slice() });
    if (this.requests.length > this.maxRecorded) this.requests.shift();
    this.active += 1;
    try {
      await this.wait(req.signal);
    } finally {
      this.active -= 1;
    }
    if (this.failures > 0) {
      this.failures -= 1;
      throw new AppError('stt_failed', 'fake STT service unavailable', { status: 502, retryable: true });
    }
    this.answered += 1;
    const next = this.script.shift();
    const text = next === undefined ? `utterance ${this.answered}` : typeof next === 'function' ? next(req) : next;
    return { text: text.trim(), latencyMs: this.timers.now() - started, attempts: 1 };
  }

  private wait(signal: AbortSignal | undefined): Promise<void> {
    return abortableDelay(this.timers, this.latencyMs, signal, () => abortedError('stt', signal?.reason));
  }
}
