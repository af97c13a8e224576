/**
 * The speech front end off the main thread: worker threads (MEDIA_WORKERS; one per core but one by default), each running the
 * resampler, high-pass, VAD (energy, or Silero with its own model session) and endpointer of the
 * calls pinned to it (front-end-worker.ts).
 *
 * Why: at hundreds of speaking calls the per-frame front end (and Silero round trips) kept the
 * main event loop past its 20 ms lag bar. Now the main thread does WebSocket I/O, JSON, base64 and
 * the codec's table lookup, then copies each frame into its worker's shared ring
 * (front-end-ring.ts) — no message per frame; the worker reads it on a 5 ms tick (see
 * DEFAULT_TICK_MS), and is woken at once (Atomics.notify) only for controls. Rare things are messages: a call's settings when it opens, and the worker's
 * endpointer events (audio transferred) batched per turn.
 *
 * Each call is a RemoteFrontEnd with the endpointer's meaning unchanged: events in stream order;
 * `endAfter` and `reset` go through the same ring as the audio, so they apply at the worker's
 * position in the stream, and a stale pauseId changes nothing (the worker's endpointer decides);
 * `isInSpeech` / `currentPauseId` read the slot state the worker publishes (at most one turn old).
 *
 * Bounds: the ring holds ~2 s of audio for 500 calls; when it is full (the worker stalled) frames
 * are dropped and counted as VAD `dropped`. If a worker dies, its calls go on with a front end on
 * the main thread (energy VAD) and the error is logged once. Partials (best effort anyway) are shed by the
worker while the main thread has not handled its last two event batches; beyond four the worker stops reading
its ring until the main thread catches up (the audio waits in the ring), so a main thread starved of CPU never
has utterance copies queued for it without bound; pauses and finals are never shed.
 */
import os from 'node:os';
import { startWorkerThread, workerModule } from '../vad/worker-thread';
import { Worker } from 'node:worker_threads';
import { Endpointer } from '../audio/endpointer';
import { disableOnnxTelemetry } from '../../lib/config';
import { errorMessage } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { realTimers, type Timers } from '../../lib/timers';
import { withTimeout } from '../../lib/with-timeout';
import { EnergyVad } from '../vad/energy-vad';
import type { VadStats } from '../vad/vad';
import type { EndpointerEvent } from '../audio/endpointer';
import type { FrontEnd, FrontEndEventHandler } from './front-end';
import { LocalFrontEnd } from './local-front-end';
import { CONSUMED, createRingBuffers, OP_CLOSE, OP_END_AFTER, OP_PCM, OP_RESET, RingWriter, SLOT_WORDS, S_DONE, S_GEN, S_IN_SPEECH, S_PAUSE } from './front-end-ring';
import type { FromWorker, FrontEndWorkerInit, SlotSettings, ToWorker } from './front-end-wire';

/** Ring size per worker in 16-bit words: 4 M words = 8 MB ≈ 2 s of 8 kHz audio for 250 calls, 1 s for 500 (resident once cycled: RSS). */
const RING_WORDS = 4 * 1024 * 1024;
const MAX_SLOTS = 8192;
/** Larger pushes are split (the ring's record length is 16 bits). */
const MAX_PUSH = 16384;

export interface FrontEndPoolOptions {
  workers: number;
  vad: 'energy' | 'silero';
  model?: FrontEndWorkerInit['model'];
  logger?: Logger;
  /** How long a worker may take to start (model load included; default 20 s). */
  startTimeoutMs?: number;
  /** How often a worker reads the audio in its ring (default DEFAULT_TICK_MS). */
  tickMs?: number;
  /** The start and close bounds and the full-ring retry. Default: real timers. */
  timers?: Timers;
}

/**
 * Audio is read by each worker on a 5 ms tick rather than on a doorbell per main event-loop turn.
 * A doorbell that wakes a waiting thread is a futex call and a context switch on both sides; rung
 * on every turn (thousands a second at a few hundred calls) it was the main thread's largest single
 * cost (~17 % of its busy time at 300 speaking calls) and it kept the workers' batches small. A
 * tick adds ≤ 5 ms (2.5 ms on average) before a frame is scored: an end of turn is seen that much
 * later (a 10 ms tick put bench:turn's p95 at 30–39 ms against its 40 ms bar). Still only ~200
 * wake-ups a second per worker, whatever the number of calls; controls (end-after, reset, close)
 * ring at once.
 */
export const DEFAULT_TICK_MS = 5;

/**
 * Default worker count: one per core but one, which is left to the main thread (at least one
 * worker). The main thread holds every socket and paces outbound audio; with as many busy workers
 * as cores it waits for a core behind them. Measured with bench:media at 500 speaking calls on 2
 * cores: one worker used ~124 % of a core in all and kept loop p99 at 22–31 ms, two used ~131 %
 * and let it reach 33–37 ms (a single worker also fills Silero's batches better).
 */
export const defaultFrontEndWorkers = (cores = os.availableParallelism?.() ?? os.cpus().length): number => Math.max(1, cores - 1);

/** One worker: its thread, ring writer, slot table and the calls on it. */
class FrontEndWorker {
  readonly writer: RingWriter;
  readonly table: Int32Array;
  readonly calls = new Map<number, RemoteFrontEnd>();
  private readonly freeSlots: number[] = [];
  private nextSlot = 0;
  private rung = false;
  dead = false;

  constructor(
    readonly worker: Worker,
    rings: FrontEndWorkerInit['rings'],
    readonly pool: FrontEndPool,
  ) {
    this.writer = new RingWriter(rings);
    this.table = new Int32Array(rings.slots);
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'out') this.onOut(m);
    });
    worker.on('error', (err) => this.lost(`worker error: ${errorMessage(err)}`));
    worker.on('exit', (code) => this.lost(`worker exited (code ${code})`));
  }

  allocSlot(): number | undefined {
    const s = this.freeSlots.pop();
    if (s !== undefined) return s;
    return this.nextSlot < MAX_SLOTS ? this.nextSlot++ : undefined;
  }

  freeSlot(slot: number): void {
    this.calls.delete(slot);
    this.freeSlots.push(slot);
  }

  post(m: ToWorker): void {
    if (!this.dead) this.worker.postMessage(m);
  }

  /** Rings the doorbell once per event-loop turn, after this turn's records (controls only; audio waits for the worker's tick). */
  wake(): void {
    if (this.rung) return;
    this.rung = true;
    setImmediate(() => {
      this.rung = false;
      this.writer.ring();
    });
  }

  private onOut(m: Extract<FromWorker, { type: 'out' }>): void {
    Atomics.add(this.writer.ctl, CONSUMED, 1); // a worker holding back for us reads its ring again at its next tick
    for (const o of m.list) {
      const call = this.calls.get(o.slot);
      if (!call || call.gen !== o.gen) continue;
      // One call's failing handler must not cost the other calls of this batch their events.
      try {
        if (o.kind === 'event') call.deliver(o.e, o.samples);
        else if (o.kind === 'closed') call.closed(o.stats);
        else this.pool.logger?.warn({ err: o.message }, 'VAD failed on a frame');
      } catch (err) {
        this.pool.logger?.warn({ err: err instanceof Error ? err.message : String(err) }, 'front-end event handler failed');
      }
    }
  }

  lost(why: string): void {
    if (this.dead) return;
    this.dead = true;
    if (!this.pool.closing) this.pool.logger?.error({ reason: why, calls: this.calls.size }, 'front-end worker lost: its calls go on with a main-thread front end (energy VAD)');
    for (const c of [...this.calls.values()]) c.workerLost();
    this.calls.clear();
  }
}

export class FrontEndPool {
  private readonly workers: FrontEndWorker[] = [];
  private gen = 0;
  closing = false;

  private constructor(
    readonly logger: Logger | undefined,
    readonly timers: Timers,
  ) {}

  /** Starts the workers (and, with Silero, their models); rejects (everything stopped) if any fails. */
  static async start(opts: FrontEndPoolOptions): Promise<FrontEndPool> {
    if (opts.vad === 'silero') disableOnnxTelemetry(); // the workers' process.env never reaches onnxruntime
    const pool = new FrontEndPool(opts.logger, opts.timers ?? realTimers);
    const started = await Promise.allSettled(Array.from({ length: Math.max(1, opts.workers) }, () => startWorker(opts)));
    const failed = started.find((r) => r.status === 'rejected');
    for (const r of started) if (r.status === 'fulfilled') pool.workers.push(new FrontEndWorker(r.value.worker, r.value.rings, pool));
    if (failed) {
      await pool.close();
      throw (failed as PromiseRejectedResult).reason;
    }
    return pool;
  }

  get size(): number {
    return this.workers.length;
  }

  /** A front end for one call on the least busy live worker, or undefined (no worker, no slot). */
  open(settings: SlotSettings): FrontEnd | undefined {
    let best: FrontEndWorker | undefined;
    for (const w of this.workers) if (!w.dead && (!best || w.calls.size < best.calls.size)) best = w;
    const slot = best?.allocSlot();
    if (!best || slot === undefined) return undefined;
    this.gen = (this.gen + 1) & 0x7fffffff;
    const call = new RemoteFrontEnd(best, slot, this.gen, settings);
    best.calls.set(slot, call);
    best.post({ type: 'open', slot, gen: this.gen, settings });
    return call;
  }

  /** Stops every worker (each finishes its work in progress, the model is released). */
  async close(graceMs = 5000): Promise<void> {
    this.closing = true;
    await Promise.all(
      this.workers.map(async (w) => {
        if (w.dead) return;
        const exited = new Promise<void>((resolve) => w.worker.once('exit', () => resolve()));
        w.post({ type: 'stop' });
        w.writer.ring();
        const r = await withTimeout(exited, graceMs, () => 'late' as const, this.timers);
        if (r === 'late') await w.worker.terminate();
        w.lost('closed');
      }),
    );
  }
}

function startWorker(opts: FrontEndPoolOptions): Promise<{ worker: Worker; rings: FrontEndWorkerInit['rings'] }> {
  const rings = createRingBuffers(RING_WORDS, MAX_SLOTS);
  const init: FrontEndWorkerInit = { rings, vad: opts.vad, model: opts.model ?? {}, tickMs: opts.tickMs ?? DEFAULT_TICK_MS };
  const entry = workerModule(__dirname, 'front-end-worker', __filename);
  return startWorkerThread(entry, { ...init }, { label: 'front-end worker', timeoutMs: opts.startTimeoutMs ?? 20_000, timers: opts.timers }).then((worker) => ({ worker, rings }));
}

/** One call's front end on a worker. */
class RemoteFrontEnd implements FrontEnd {
  private handler: FrontEndEventHandler = () => undefined;
  private pushes = 0;
  private samples = 0;
  /** Frames dropped here (ring full); added to the worker's counters at close. */
  private dropped = 0;
  private report: ((stats: VadStats) => void) | undefined;
  private isClosed = false;
  /** Set when the worker died: the rest of the call runs here. */
  private local: LocalFrontEnd | undefined;
  private readonly base: number;

  constructor(
    private readonly w: FrontEndWorker,
    private readonly slot: number,
    readonly gen: number,
    private readonly settings: SlotSettings,
  ) {
    this.base = slot * SLOT_WORDS;
  }

  attach(handler: FrontEndEventHandler): void {
    this.handler = handler;
    this.local?.attach(handler);
  }

  push(pcm: Int16Array, sampleRate: number): void {
    if (this.isClosed) return;
    if (this.local) return this.local.push(pcm, sampleRate);
    for (let off = 0; off < pcm.length; off += MAX_PUSH) {
      const part = off === 0 && pcm.length <= MAX_PUSH ? pcm : pcm.subarray(off, off + MAX_PUSH);
      this.pushes += 1;
      if (!this.w.writer.write(OP_PCM, this.slot, this.gen, sampleRate, 0, part)) {
        this.dropped += 1;
        this.pushes -= 1;
      }
    }
  }

  /** @internal An event from the worker. */
  deliver(e: EndpointerEvent, samples: number): void {
    if (this.isClosed) return;
    this.samples = samples;
    this.handler(e, samples);
  }

  /** @internal The worker's final counters for this call. */
  closed(stats: VadStats): void {
    this.w.freeSlot(this.slot);
    const r = this.report;
    this.report = undefined;
    r?.({ ...stats, dropped: stats.dropped + this.dropped, frames: stats.frames + this.dropped });
  }

  /** @internal The worker is gone: continue on this thread from a fresh front end. */
  workerLost(): void {
    const r = this.report;
    this.report = undefined;
    if (this.isClosed) {
      r?.({ frames: this.dropped, inferred: 0, gated: 0, dropped: this.dropped });
      return;
    }
    const vad = new EnergyVad();
    const s = this.settings;
    this.local = new LocalFrontEnd({
      highPassCutoffHz: s.highPassCutoffHz,
      vad,
      endpointer: new Endpointer({ ...s.endpointer, vadEndLagMs: vad.endLagMs }),
    });
    this.local.attach(this.handler);
  }

  private get live(): boolean {
    return !this.local && !this.w.dead && Atomics.load(this.w.table, this.base + S_GEN) === this.gen;
  }

  get unscoredFrames(): number {
    if (this.local) return this.local.unscoredFrames;
    return this.live ? Math.max(0, this.pushes - Atomics.load(this.w.table, this.base + S_DONE)) : this.pushes;
  }

  get streamSamples(): number {
    return this.local ? this.local.streamSamples : this.samples;
  }

  get isInSpeech(): boolean {
    if (this.local) return this.local.isInSpeech;
    return this.live && Atomics.load(this.w.table, this.base + S_IN_SPEECH) === 1;
  }

  get currentPauseId(): number | undefined {
    if (this.local) return this.local.currentPauseId;
    const p = this.live ? Atomics.load(this.w.table, this.base + S_PAUSE) : 0;
    return p === 0 ? undefined : p - 1;
  }

  endAfter(pauseId: number, ms: number): readonly EndpointerEvent[] {
    if (this.local) return this.local.endAfter(pauseId, ms);
    if (!this.isClosed) this.control(OP_END_AFTER, pauseId, Math.max(0, Math.round(ms)));
    return [];
  }

  reset(): void {
    if (this.local) return this.local.reset();
    if (!this.isClosed) this.control(OP_RESET, 0, 0);
  }

  close(report: (stats: VadStats) => void): void {
    if (this.isClosed) return;
    this.isClosed = true;
    if (this.local) return this.local.close(report);
    this.report = report;
    this.control(OP_CLOSE, 0, 0);
  }

  /** A control record, in order with the audio; a full ring retries each turn until it fits. */
  private control(op: number, a: number, b: number): void {
    if (this.w.dead) return;
    if (!this.w.writer.write(op, this.slot, this.gen, a, b)) {
      this.w.pool.timers.after(20, () => this.control(op, a, b));
      return;
    }
    this.w.wake();
  }
}
