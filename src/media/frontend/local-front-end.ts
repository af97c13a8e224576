/**
 * The STT front end of one call in the thread that runs it: caller PCM at the codec rate →
 * high-pass → VAD → 16 kHz → endpointer → endpointer events. The speech pipeline runs one on the
 * main thread (worker threads off, or a debug dump on); a front-end worker (front-end-worker.ts)
 * runs one per call it holds. Pure computation: no I/O, no timers.
 *
 * Rates: the high-pass runs at the codec's rate (at 8 kHz half the multiply-adds of filtering the
 * 16 kHz signal; a cutoff at or above the codec's Nyquist is filtered after resampling instead). A
 * VAD built for the codec's rate (Silero's 8 kHz mode for telephony audio) scores the audio before
 * resampling; a 16 kHz VAD scores the resampled audio. The endpointer, and so STT, always gets
 * 16 kHz.
 */
import { StreamingResampler } from '../audio/resampler';
import { HighPassFilter } from '../audio/highpass';
import type { Endpointer, EndpointerEvent } from '../audio/endpointer';
import type { Vad, VadStats } from '../vad/vad';
import type { FrontEnd, FrontEndEventHandler } from './front-end';

export const STT_RATE = 16000;

export interface LocalFrontEndDeps {
  /** High-pass cutoff (STT_HIGHPASS_CUTOFF_HZ); null = disabled (STT_HIGHPASS_ENABLED=false). */
  highPassCutoffHz: number | null;
  /**
   * The call's VAD, or a factory given the codec's rate at the first frame (it may return a VAD
   * whose `sampleRate` is that rate, which then scores the audio before resampling). The endpointer
   * must have been built with the VAD's `endLagMs`.
   */
  vad: Vad | ((inputRate: number) => Vad);
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

const NO_STATS: VadStats = { frames: 0, inferred: 0, gated: 0, dropped: 0 };

export class LocalFrontEnd implements FrontEnd {
  private resampler: StreamingResampler | undefined;
  /** The codec rate the filters below are set up for (0 = no frame yet). */
  private inRate = 0;
  /** High-pass at the codec rate (before resampling), or at 16 kHz (after); at most one is in use. */
  private highPassIn: HighPassFilter | undefined;
  private highPass16k: HighPassFilter | undefined;
  /** The high-passed copy of an input frame (the caller's buffer is not written to). */
  private scratch = new Int16Array(0);
  private vad: Vad | undefined;
  /** VADs replaced after a rate change (a codec fallback mid-call): counted and released at close. */
  private readonly retired: Vad[] = [];
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

  constructor(private readonly d: LocalFrontEndDeps) {
    if (typeof d.vad !== 'function') this.vad = d.vad;
  }

  attach(handler: FrontEndEventHandler): void {
    this.handler = handler;
  }

  /**
   * Sets the filters (and, if it cannot take this rate, the VAD) up for a new codec rate. The rate
   * is recorded last: if anything here throws, the next frame tries again.
   */
  private setRate(rate: number): void {
    this.resampler = rate === STT_RATE ? undefined : new StreamingResampler(rate, STT_RATE);
    const cutoff = this.d.highPassCutoffHz;
    // Before resampling only below 16 kHz (fewer samples to filter); wideband codecs filter at 16 kHz.
    const before = cutoff !== null && rate < STT_RATE && cutoff < rate / 2;
    this.highPassIn = before ? new HighPassFilter(rate, cutoff) : undefined;
    this.highPass16k = cutoff !== null && !before ? (this.highPass16k ?? new HighPassFilter(STT_RATE, cutoff)) : undefined;
    const make = this.d.vad;
    const vad = this.vad;
    if (typeof make === 'function' && (!vad || (vad.sampleRate !== STT_RATE && vad.sampleRate !== rate))) {
      // The replaced VAD may still be scoring its backlog: its counters are read at close.
      if (vad) this.retired.push(vad);
      this.vad = make(rate);
    }
    this.inRate = rate;
  }

  push(pcm: Int16Array, sampleRate: number): void {
    if (this.closed) return;
    this.pushes += 1;
    if (sampleRate !== this.inRate) this.setRate(sampleRate);
    let input = pcm;
    if (this.highPassIn) {
      if (this.scratch.length < pcm.length) this.scratch = new Int16Array(pcm.length);
      input = this.scratch.subarray(0, pcm.length);
      input.set(pcm);
      this.highPassIn.process(input);
    }
    const frame = this.resampler ? this.resampler.process(input) : input;
    this.highPass16k?.process(frame);
    this.d.tap?.(frame);
    const vad = this.vad!;
    // A VAD made for the codec's rate scores the audio as it arrived; any other gets 16 kHz.
    const r = vad.push(vad.sampleRate === this.inRate ? input : frame);
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
    const all = this.vad ? [...this.retired, this.vad] : this.retired;
    report(all.reduce<VadStats>((sum, v) => addStats(sum, v.stats), NO_STATS));
    for (const v of all) {
      if (v.dispose) v.dispose();
      else v.reset();
    }
  }
}

function addStats(a: VadStats, b: VadStats): VadStats {
  return { frames: a.frames + b.frames, inferred: a.inferred + b.inferred, gated: a.gated + b.gated, dropped: a.dropped + b.dropped };
}
