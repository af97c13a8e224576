/**
 * The STT front end of one call in the thread that runs it: caller PCM at the codec rate → 16 kHz
 * → high-pass → VAD → endpointer → endpointer events. The speech pipeline runs one on the main
 * thread (worker threads off, or a debug dump on); a front-end worker (front-end-worker.ts) runs
 * one per call it holds. Pure computation: no I/O, no timers.
 */
import { StreamingResampler } from '../audio/resampler';
import type { HighPassFilter } from '../audio/highpass';
import type { Endpointer, EndpointerEvent } from '../audio/endpointer';
import type { Vad, VadStats } from '../vad/vad';
import type { FrontEnd, FrontEndEventHandler } from './front-end';

export const STT_RATE = 16000;

export interface LocalFrontEndDeps {
  /** null = high-pass disabled (STT_HIGHPASS_ENABLED=false). */
  highPass: HighPassFilter | null;
  vad: Vad;
  endpointer: Endpointer;
  /** Sees every 16 kHz frame after the high-pass (the STT debug dump). */
  tap?: (frame16k: Int16Array) => void;
  /** A frame the VAD failed on (skipped). */
  onVadError?: (err: unknown) => void;
  /** Called whenever frames have gone through the endpointer (the worker publishes its progress). */
  onProgress?: () => void;
}

interface PendingFrame {
  readonly frame: Int16Array;
  /** The VAD's answer for this frame: a probability, or the promise of one. */
  readonly r: number | Promise<number>;
  settled: boolean;
  prob: number;
  /** Set when the VAD promise rejected: the frame is skipped. */
  err: unknown;
}

export class LocalFrontEnd implements FrontEnd {
  private resampler: StreamingResampler | undefined;
  private resamplerRate = 0;
  /** 16 kHz samples through the endpointer: the stream clock events are stamped with. */
  private samples = 0;
  /** Pushes fully through the endpointer. */
  private done = 0;
  private pushes = 0;
  /** Frames waiting for an async VAD result, oldest first. */
  private readonly pending: PendingFrame[] = [];
  private draining = false;
  private closed = false;
  private handler: FrontEndEventHandler = () => undefined;

  constructor(private readonly d: LocalFrontEndDeps) {}

  attach(handler: FrontEndEventHandler): void {
    this.handler = handler;
  }

  push(pcm: Int16Array, sampleRate: number): void {
    if (this.closed) return;
    this.pushes += 1;
    let frame = pcm;
    if (sampleRate !== STT_RATE) {
      if (this.resamplerRate !== sampleRate) {
        this.resampler = new StreamingResampler(sampleRate, STT_RATE);
        this.resamplerRate = sampleRate;
      }
      frame = this.resampler!.process(pcm);
    }
    this.d.highPass?.process(frame);
    this.d.tap?.(frame);
    const r = this.d.vad.push(frame);
    if (typeof r === 'number' && this.pending.length === 0) {
      this.endpoint(frame, r);
      this.d.onProgress?.();
      return;
    }
    // Async VAD result (Silero inference): the frame buffer is reused, so keep a copy, and keep
    // order. A FIFO drained when results arrive, instead of a 4-promise chain per frame (profiled
    // as a visible share of the per-frame cost at 200+ calls); consecutive frames usually wait on
    // the same VAD promise (one 32 ms Silero frame spans 1–2 of our 20 ms frames), so one
    // callback serves them all.
    const entry: PendingFrame = { frame: frame.slice(), r, settled: typeof r === 'number', prob: typeof r === 'number' ? r : 0, err: undefined };
    const last = this.pending[this.pending.length - 1];
    this.pending.push(entry);
    if (typeof r !== 'number' && last?.r !== r) {
      r.then(
        (p) => this.settle(r, p, undefined),
        (err: unknown) => this.settle(r, 0, err ?? new Error('VAD failed')),
      );
    }
    if (entry.settled) this.drain();
  }

  private settle(r: Promise<number>, prob: number, err: unknown): void {
    for (const e of this.pending) {
      if (e.r === r) {
        e.settled = true;
        e.prob = prob;
        e.err = err;
      }
    }
    this.drain();
  }

  /** Feeds settled frames to the endpointer in arrival order, stopping at the first unsettled one. */
  private drain(): void {
    // A listener reacting to an event must not start a nested drain over entries not yet spliced.
    if (this.draining) return;
    this.draining = true;
    const q = this.pending;
    let n = 0;
    while (n < q.length && q[n]!.settled) {
      const e = q[n]!;
      n += 1;
      try {
        if (e.err !== undefined) throw e.err;
        this.endpoint(e.frame, e.prob);
      } catch (err) {
        this.done += 1;
        this.d.onVadError?.(err);
      }
    }
    if (n > 0) q.splice(0, n);
    this.draining = false;
    if (n > 0) this.d.onProgress?.();
  }

  private endpoint(frame: Int16Array, prob: number): void {
    this.done += 1;
    if (this.closed) return;
    this.samples += frame.length;
    const events = this.d.endpointer.push(frame, prob);
    for (const e of events) this.handler(e, this.samples);
  }

  /** Pushes fully through the endpointer (or skipped on a VAD error). */
  get framesDone(): number {
    return this.done;
  }

  get unscoredFrames(): number {
    return this.pushes - this.done;
  }

  get isInSpeech(): boolean {
    return this.d.endpointer.isInSpeech;
  }

  get currentPauseId(): number | undefined {
    return this.d.endpointer.currentPauseId;
  }

  endAfter(pauseId: number, ms: number): readonly EndpointerEvent[] {
    return this.d.endpointer.endAfter(pauseId, ms);
  }

  /** The stream clock (16 kHz samples through the endpointer). */
  get streamSamples(): number {
    return this.samples;
  }

  reset(): void {
    this.d.endpointer.reset();
  }

  close(report: (stats: VadStats) => void): void {
    if (this.closed) return;
    this.closed = true;
    report({ ...this.d.vad.stats });
    if (this.d.vad.dispose) this.d.vad.dispose();
    else this.d.vad.reset();
  }
}
