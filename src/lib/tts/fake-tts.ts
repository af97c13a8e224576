/**
 * An in-memory TextToSpeech for tests and offline runs: no network, deterministic audio. Each
 * synthesize() is recorded, waits `latencyMs` on the injected timers (0 = answers on the next
 * microtask), then answers a 440 Hz tone at the requested rate lasting `msPerChar` per character of
 * the text (at least `minMs`), divided by the speed — the same rule as the Kokoro stand-in, so a
 * test can predict how long a reply plays. `failNext` makes the next answers fail like an
 * unreachable service. It keeps the port's promises (tests/integration/tts-contract.test.ts runs the
 * same contract against it and the Kokoro client).
 */
import { AppError } from '../errors';
import { abortableDelay, realTimers, type Timers } from '../timers';
import type { TextToSpeech, TtsAudio, TtsRequest } from './port';

export interface FakeTtsOptions {
  latencyMs?: number;
  /** Tone length per character of text; default 60 ms. */
  msPerChar?: number;
  /** Shortest tone; default 300 ms. */
  minMs?: number;
  timers?: Timers;
  /** Keep at most this many recorded requests (oldest dropped first); default 1000. */
  maxRecorded?: number;
}

export type FakeTtsRequest = Omit<TtsRequest, 'signal'>;

const aborted = (cause?: unknown) => new AppError('tts_aborted', 'TTS request aborted by the caller', { status: 499, cause });

export class FakeTextToSpeech implements TextToSpeech {
  /** Every request that reached the fake (refused empty text excluded), oldest first. */
  readonly requests: FakeTtsRequest[] = [];
  private readonly msPerChar: number;
  private readonly minMs: number;
  private readonly timers: Timers;
  private readonly maxRecorded: number;
  private latencyMs: number;
  private failures = 0;

  constructor(opts: FakeTtsOptions = {}) {
    this.latencyMs = opts.latencyMs ?? 0;
    this.msPerChar = opts.msPerChar ?? 60;
    this.minMs = opts.minMs ?? 300;
    this.timers = opts.timers ?? realTimers;
    this.maxRecorded = opts.maxRecorded ?? 1000;
  }

  /** How long the audio for `text` lasts, in ms. */
  durationMs(text: string, speed = 1): number {
    return Math.max(this.minMs, text.length * this.msPerChar) / speed;
  }

  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  /** The next `times` requests fail with a retryable `tts_failed` (a service outage). */
  failNext(times = 1): void {
    this.failures += times;
  }

  async synthesize(req: TtsRequest): Promise<TtsAudio> {
    if (req.text.trim() === '') throw new AppError('tts_failed', 'nothing to synthesize: empty text', { status: 400 });
    if (req.signal?.aborted) throw aborted(req.signal.reason);
    const { signal: _signal, ...recorded } = req;
    this.requests.push(recorded);
    if (this.requests.length > this.maxRecorded) this.requests.shift();
    await this.wait(req.signal);
    if (this.failures > 0) {
      this.failures -= 1;
      throw new AppError('tts_failed', 'fake TTS service unavailable', { status: 502, retryable: true });
    }
    return { samples: tone(this.durationMs(req.text, req.speed ?? 1), req.sampleRate), sampleRate: req.sampleRate };
  }

  private wait(signal: AbortSignal | undefined): Promise<void> {
    return abortableDelay(this.timers, this.latencyMs, signal, () => aborted(signal?.reason));
  }
}

function tone(durationMs: number, sampleRate: number): Int16Array {
  const n = Math.max(1, Math.round((durationMs / 1000) * sampleRate));
  const out = new Int16Array(n);
  for (let i = 0; i < n; i += 1) out[i] = Math.round(0.3 * 32767 * Math.sin((2 * Math.PI * 440 * i) / sampleRate));
  return out;
}
