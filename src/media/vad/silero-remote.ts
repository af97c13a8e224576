/**
 * Silero VAD on a worker thread: the main thread's per-call detectors are thin proxies.
 *
 * Why: onnxruntime-node runs inference on the calling thread, and a stream's frames must be scored
 * one after another (each needs the previous frame's recurrent state — and, through the energy
 * gate's hangover, its probability). On the main thread every scored frame therefore costs at least
 * one event-loop round trip; with hundreds of calls the loop is busy with sockets, a round trip
 * grows past the 32 ms frame period, streams fall behind, their 2 s backlogs overflow and dropped
 * frames split utterances (load-test:calls at 200 calls: ~3 % of frames dropped, utterances cut).
 * In the worker the loop does nothing but VAD: a batch of every queued stream's next frame runs
 * back to back (~42 µs a frame batched), and the inference cost leaves the media thread.
 *
 * Shape: one worker per process holding one SileroModel and a SileroVad per stream (the same code
 * as in-thread, see silero-worker.ts). Pushes from every call are appended to one pending buffer and
 * posted once per event-loop turn (setImmediate) as a single transferred message; the worker answers
 * with per-frame progress records (samples consumed, probability) batched per turn. Each proxy turns
 * those into the usual Vad contract: a number when nothing is outstanding, else a promise resolved in
 * push order — exactly the in-thread SileroVad semantics.
 *
 * Bounds: a stream more than `maxBehindMs` (3 s) behind is restarted (its unscored audio counted as
 * dropped) so nothing queues without limit if the worker stalls; the pending buffer is flushed when
 * full. If the worker dies, every proxy falls back to an in-thread EnergyVad and says so once.
 */
import { startWorkerThread, workerModule } from './worker-thread';
import { Worker } from 'node:worker_threads';
import { disableOnnxTelemetry } from '../../lib/config';
import { errorMessage } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { withTimeout } from '../../lib/with-timeout';
import { EnergyVad } from './energy-vad';
import { FrameWaiters } from './frame-waiters';
import { SILERO_FRAME } from './silero-model';
import { SILERO_END_LAG_MS } from './silero-vad';
import { OP_CLOSE, OP_OPEN, OP_PCM, OP_STOP, REC_FIELDS, type WorkerInit, type WorkerReply } from './silero-wire';
import type { Vad, VadStats } from './vad';

const RATE = 16000;
/** Pending samples posted at once at most (2 s at 16 kHz); a fuller buffer is flushed early. */
const PENDING_SAMPLES = 32768;
const PENDING_OPS = 4096;

export interface SileroWorkerOptions extends WorkerInit {
  logger?: Logger;
  /** A stream further behind than this is restarted (default 3000 ms, above the worker's 2 s backlog). */
  maxBehindMs?: number;
  /** How long the model may take to load (default 20 s). */
  startTimeoutMs?: number;
}

export class SileroWorkerClient {
  private readonly streams = new Map<number, RemoteSileroVad>();
  private nextId = 1;
  private meta = new Int32Array(PENDING_OPS * 4);
  private metaLen = 0;
  private pcm = new Int16Array(PENDING_SAMPLES);
  private pcmLen = 0;
  private scheduled = false;
  private closing = false;
  /** Set once the worker is gone: proxies use their energy fallback from then on. */
  dead = false;
  readonly maxBehindSamples: number;

  private constructor(
    private readonly worker: Worker,
    private readonly logger: Logger | undefined,
    maxBehindMs: number,
  ) {
    this.maxBehindSamples = Math.round((maxBehindMs * RATE) / 1000);
    worker.on('message', (m: WorkerReply) => {
      if (m.type === 'records') this.onRecords(m.recs);
    });
    worker.on('error', (err) => this.lost(`worker error: ${errorMessage(err)}`));
    worker.on('exit', (code) => this.lost(`worker exited (code ${code})`));
  }

  /** Starts the worker and waits for its model; rejects (worker stopped) when the model cannot load. */
  static start(opts: SileroWorkerOptions): Promise<SileroWorkerClient> {
    disableOnnxTelemetry(); // here, on the main thread: the worker's own process.env never reaches onnxruntime
    const entry = workerModule(__dirname, 'silero-worker', __filename);
    return startWorkerThread(entry, { model: opts.model, vad: opts.vad }, { label: 'Silero worker', timeoutMs: opts.startTimeoutMs ?? 20_000 }).then(
      (worker) => new SileroWorkerClient(worker, opts.logger, opts.maxBehindMs ?? 3000),
    );
  }

  get activeStreams(): number {
    return this.streams.size;
  }

  createVad(): Vad {
    return new RemoteSileroVad(this);
  }

  /** @internal Registers a proxy under a new stream id. */
  open(vad: RemoteSileroVad): number {
    const id = this.nextId;
    this.nextId = this.nextId >= 0x7fffffff ? 1 : this.nextId + 1;
    this.streams.set(id, vad);
    this.op(OP_OPEN, id, 0, 0);
    return id;
  }

  /** @internal */
  closeStream(id: number): void {
    if (this.streams.delete(id)) this.op(OP_CLOSE, id, 0, 0);
  }

  /** @internal Queues a stream's samples for the next post. */
  pushPcm(id: number, pcm: Int16Array): void {
    if (pcm.length > this.pcm.length - this.pcmLen) this.flush();
    if (pcm.length > this.pcm.length) this.pcm = new Int16Array(pcm.length); // one oversized push
    this.pcm.set(pcm, this.pcmLen);
    this.op(OP_PCM, id, this.pcmLen, pcm.length);
    this.pcmLen += pcm.length;
  }

  private op(op: number, id: number, off: number, len: number): void {
    if (this.dead) return;
    if (this.metaLen + 4 > this.meta.length) this.flush();
    const m = this.meta;
    const i = this.metaLen;
    m[i] = op;
    m[i + 1] = id;
    m[i + 2] = off;
    m[i + 3] = len;
    this.metaLen += 4;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.onImmediate);
    }
  }

  private readonly onImmediate = (): void => {
    this.scheduled = false;
    this.flush();
  };

  private flush(): void {
    if (this.metaLen === 0 || this.dead) return;
    const meta = this.meta.slice(0, this.metaLen);
    const pcm = this.pcm.slice(0, this.pcmLen);
    this.metaLen = 0;
    this.pcmLen = 0;
    this.worker.postMessage({ meta, pcm }, [meta.buffer, pcm.buffer]);
  }

  private onRecords(recs: Float64Array): void {
    for (let i = 0; i + REC_FIELDS <= recs.length; i += REC_FIELDS) {
      this.streams.get(recs[i]!)?.advance(recs[i + 1]!, recs[i + 2]!, recs[i + 3]!, recs[i + 4]!, recs[i + 5]!);
    }
  }

  private lost(why: string): void {
    if (this.dead) return;
    this.dead = true;
    if (!this.closing) this.logger?.error({ reason: why, streams: this.streams.size }, 'Silero VAD worker lost: live calls continue on the energy VAD');
    for (const s of this.streams.values()) s.workerLost();
    this.streams.clear();
  }

  /**
   * Ends the worker: it finishes the inference in progress and releases the model first (tearing
   * the thread down mid-run would abort the process inside onnxruntime); terminated only if it has
   * not ended within `graceMs`.
   */
  async close(graceMs = 5000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (!this.dead) {
      const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
      this.op(OP_STOP, 0, 0, 0);
      this.flush();
      const r = await withTimeout(exited, graceMs, () => 'late' as const);
      if (r === 'late') await this.worker.terminate();
    }
    this.lost('closed');
  }
}

/** One call's detector: forwards audio to the worker and answers with its verdicts in push order. */
export class RemoteSileroVad implements Vad {
  readonly kind = 'silero' as const;
  readonly sampleRate = RATE;
  readonly frameSamples = SILERO_FRAME;
  /** As SileroVad (same model, same framing). */
  readonly endLagMs = SILERO_END_LAG_MS;
  readonly stats: VadStats = { frames: 0, inferred: 0, gated: 0, dropped: 0 };
  private id: number;
  private written = 0;
  private consumed = 0;
  private lastProb = 0;
  private readonly waiters = new FrameWaiters(SILERO_FRAME);
  private fallback: EnergyVad | undefined;
  private disposed = false;

  constructor(private readonly client: SileroWorkerClient) {
    this.id = client.dead ? 0 : client.open(this);
  }

  push(pcm16k: Int16Array): number | Promise<number> {
    if (this.disposed) return 0;
    if (this.client.dead) return (this.fallback ??= new EnergyVad()).push(pcm16k);
    if (this.written - this.consumed > this.client.maxBehindSamples) this.restart();
    this.client.pushPcm(this.id, pcm16k);
    this.written += pcm16k.length;
    return this.waiters.verdict(this.written, this.consumed, this.lastProb);
  }

  reset(): void {
    this.fallback?.reset();
    this.lastProb = 0;
    if (!this.client.dead && !this.disposed) this.renewStream();
    else this.waiters.settleAll(0);
  }

  /** The call is over: free the worker-side stream. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.client.closeStream(this.id);
    this.lastProb = 0;
    this.waiters.settleAll(0);
  }

  /** @internal Progress from the worker. */
  advance(consumed: number, prob: number, inferred: number, gated: number, dropped: number): void {
    const s = this.stats;
    s.inferred += inferred;
    s.gated += gated;
    s.dropped += dropped;
    s.frames += inferred + gated + dropped;
    this.consumed = consumed;
    this.lastProb = prob;
    this.waiters.settle(consumed, prob);
  }

  /** @internal */
  workerLost(): void {
    this.waiters.settleAll(this.lastProb);
  }

  /** Too far behind (worker stalled): drop what is unscored and start a fresh worker-side stream. */
  private restart(): void {
    const frames = Math.floor((this.written - this.consumed) / SILERO_FRAME);
    this.stats.dropped += frames;
    this.stats.frames += frames;
    this.renewStream();
  }

  /** A fresh worker-side stream (counts from 0); whatever was waiting gets the probability in force. */
  private renewStream(): void {
    this.client.closeStream(this.id);
    this.id = this.client.open(this);
    this.written = 0;
    this.consumed = 0;
    this.waiters.settleAll(this.lastProb);
  }
}
