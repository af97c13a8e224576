/**
 * Stream-mode playout for one call (Telnyx bidirectional `rtp`, docs/design.md §Telnyx): TTS segments →
 * resampled, framed, encoded, paced media messages, a mark after each segment, `clear` on barge-in.
 * The LiveKit audio-output contract, adapted: enqueue (captureFrame + flush per segment), clear
 * (clearBuffer, reporting what was heard), waitForPlayout, segmentStarted/segmentDone/idle events.
 *
 * Pacing. Telnyx queues whatever we send and plays it at real time, so we model its queue by one
 * number, `playEnd`: the time it will have played everything sent (each message of d ms moves it to
 * max(playEnd, now) + d). A message goes out only if that keeps playEnd − now ≤ maxAheadMs (200 ms:
 * a jitter cushion that never drops below 120 ms with 60 ms messages; also the most a late clear
 * could let through).
 * The shared ticker (pacer.ts) calls every attached playout each 20 ms; sending is decided from
 * time, not tick counts, so a late tick catches up in one go and still never exceeds maxAheadMs.
 * enqueue() sends at once when there is room, so first audio never waits for a tick.
 *
 * Message size: 60 ms by default. Per-message cost (JSON, base64 string, a WebSocket frame and its
 * write) dominates the PCMU path; 60 ms sends a third as many messages as 20 ms while keeping
 * > 120 ms queued at Telnyx. OPUS: always 20 ms (Telnyx takes one Opus packet per message).
 *
 * Underrun (queue empty mid-turn, next TTS segment late): we send nothing; Telnyx plays silence
 * itself, and the next segment starts as soon as it is enqueued. Sending silence frames would only
 * delay that next segment by however much silence was already queued.
 *
 * Queue bound: maxQueuedMs (60 s) of unsent audio; enqueue() beyond it throws PlayoutQueueFullError
 * and queues nothing. Memory: PCM at the codec rate, 16 kB per second queued at 8 kHz.
 */
import { createEncoder, type Encoder } from '../audio/codecs';
import { StreamingResampler } from '../audio/resampler';
import { telnyxMediaOutput } from '../../lib/telnyx/media-output';
import { PlayoutClosedError, PlayoutQueueFullError, PlayoutUsageError } from './errors';
import { sharedPlayoutScheduler, type PlayoutClock, type TickListener } from './pacer';
import { prepareSegment, type QueuedSegment } from './segment';
import type { ClearResult, PlayoutEvents, PlayoutOutput, PlayoutSegment, PlayoutStats, SegmentPlayback, StreamPlayoutOptions } from './types';

export type { ClearResult, PlayoutEvents, PlayoutOutput, PlayoutSegment, PlayoutStats, SegmentPlayback, StreamPlayoutOptions } from './types';

/** idle: nothing unsent or unconfirmed, off the ticker. playing: on the ticker. closed: final. */
export type PlayoutState = 'idle' | 'playing' | 'closed';

/** Telnyx accepts 20 ms to 30 s per media message; we cap at 100 ms to stay well inside maxAheadMs. */
const MIN_MESSAGE_MS = 20;
const MAX_MESSAGE_MS = 100;

export class StreamPlayout implements TickListener {
  readonly stats: PlayoutStats = {
    framesSent: 0, messagesSent: 0, bytesSent: 0, marksSent: 0, clearsSent: 0, lateTicks: 0, maxLagMs: 0, underruns: 0,
  };
  readonly frameMs: number;
  readonly messageMs: number;
  readonly maxAheadMs: number;
  private readonly frameSamples: number;
  private readonly framesPerMessage: number;
  private readonly maxQueuedMs: number;
  private readonly markGraceMs: number;
  private readonly clock: PlayoutClock;
  private readonly encoder: Encoder;
  private readonly events: PlayoutEvents;
  private readonly out: PlayoutOutput;
  private readonly resamplers = new Map<number, StreamingResampler>();
  /** Not fully sent, in play order; queue[0] may be partly sent. */
  private readonly queue: QueuedSegment[] = [];
  /** Fully sent, mark not yet back, in play order. */
  private readonly pending: QueuedSegment[] = [];
  /** Marks sent before the last clear: Telnyx echoes them after it; each echo is ignored once. */
  private clearedMarks = new Set<string>();
  private unsentMs = 0;
  /** Estimated time Telnyx finishes playing everything sent so far. */
  private playEnd = -Infinity;
  /** Something was sent since the playout last went idle (a later dry buffer is an underrun). */
  private inTurn = false;
  private pumping = false;
  private waiters: (() => void)[] = [];
  private current: PlayoutState = 'idle';

  constructor(private readonly opts: StreamPlayoutOptions) {
    const { encoding, codecRate } = opts;
    this.frameMs = opts.frameMs ?? 20;
    this.messageMs = opts.messageMs ?? (encoding === 'OPUS' ? 20 : 60);
    this.maxAheadMs = opts.maxAheadMs ?? 200;
    this.maxQueuedMs = opts.maxQueuedMs ?? 60_000;
    // Telnyx's jitter buffer plus the mark's trip back, with margin; only used when marks are lost.
    this.markGraceMs = opts.markGraceMs ?? 1000;
    this.frameSamples = (codecRate * this.frameMs) / 1000;
    this.framesPerMessage = this.messageMs / this.frameMs;
    const bad = (what: string) => new PlayoutUsageError(`playout: ${what}`);
    if (!opts.output && !opts.send) throw bad('give send (the Telnyx media socket) or output');
    if (!Number.isInteger(this.frameSamples) || this.frameSamples <= 0) throw bad(`frameMs ${this.frameMs} is not whole samples at ${codecRate} Hz`);
    if (!Number.isInteger(this.framesPerMessage) || this.messageMs < MIN_MESSAGE_MS || this.messageMs > MAX_MESSAGE_MS) {
      throw bad(`messageMs ${this.messageMs} must be ${MIN_MESSAGE_MS}..${MAX_MESSAGE_MS} and a multiple of frameMs ${this.frameMs}`);
    }
    if (encoding === 'OPUS' && this.messageMs !== 20) throw bad('OPUS sends exactly one 20 ms packet per message');
    if (this.maxAheadMs < this.messageMs) throw bad(`maxAheadMs ${this.maxAheadMs} < messageMs ${this.messageMs}`);
    this.encoder = createEncoder(encoding, { sampleRate: codecRate });
    if (this.encoder.sampleRate !== codecRate) {
      this.encoder.close();
      throw bad(`${encoding} runs at ${this.encoder.sampleRate} Hz, not ${codecRate}`);
    }
    this.clock = opts.clock ?? sharedPlayoutScheduler();
    this.events = opts.events ?? {};
    this.out = opts.output ?? telnyxMediaOutput(opts.send!);
  }

  get state(): PlayoutState {
    return this.current;
  }

  /** Unsent audio queued, in ms. */
  get queuedMs(): number {
    return this.unsentMs;
  }

  /**
   * Queues a segment behind the others; sends at once what fits under maxAheadMs. Throws
   * PlayoutQueueFullError (nothing queued) past maxQueuedMs, PlayoutClosedError after close().
   */
  enqueue(segment: PlayoutSegment): void {
    if (this.current === 'closed') throw new PlayoutClosedError();
    const { id, samples, sampleRate } = segment;
    if (!Number.isInteger(sampleRate) || sampleRate <= 0) throw new PlayoutUsageError(`segment ${id}: bad sampleRate ${sampleRate}`);
    if (this.queue.some((s) => s.id === id) || this.pending.some((s) => s.id === id)) {
      throw new PlayoutUsageError(`segment id ${id} is already playing (ids name marks: keep them unique)`);
    }
    const segmentMs = (samples.length * 1000) / sampleRate;
    if (this.unsentMs + segmentMs > this.maxQueuedMs) {
      this.opts.logger?.warn({ segmentId: id, queuedMs: this.unsentMs, segmentMs }, 'playout queue full; segment refused');
      throw new PlayoutQueueFullError({ segmentId: id, queuedMs: this.unsentMs, segmentMs, maxQueuedMs: this.maxQueuedMs });
    }
    const seg = prepareSegment(id, samples, this.resamplerFor(sampleRate), this.opts.codecRate, this.frameSamples);
    const now = this.clock.now();
    seg.enqueuedAt = now;
    this.queue.push(seg);
    this.unsentMs += seg.frames * this.frameMs;
    if (this.current === 'idle') this.setState('playing');
    this.pump(now);
  }

  /** Telnyx echoed a mark. Returns false when it is not one of ours (or was cleared). */
  onMark(name: string): boolean {
    if (this.clearedMarks.delete(name)) return false;
    const i = this.pending.findIndex((s) => s.id === name);
    if (i < 0) {
      this.opts.logger?.debug({ mark: name }, 'playout: unknown or cleared mark');
      return false;
    }
    // Marks come back in order: everything before this one has played too.
    for (const s of this.pending.splice(0, i + 1)) this.events.segmentDone?.(s.id, { confirmed: true });
    this.checkDone(this.clock.now());
    return true;
  }

  /** Resolves when the playout is next idle (also on clear() and close()). */
  waitForPlayout(): Promise<void> {
    if (this.current !== 'playing') return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * Barge-in: stops sending, drops the queue, sends one `clear` (only if something was playing),
   * and reports each unfinished segment's heard share. Telnyx still held playEnd − now ms of what we
   * sent; that tail is unheard, taken from the last-sent segments backwards. This beats "time since
   * the segment's first frame was sent", which counts the up-to-maxAheadMs it sat queued at Telnyx.
   */
  clear(): ClearResult {
    if (this.current !== 'playing') return { clearSent: false, segments: [] };
    const now = this.clock.now();
    const segments = this.heard(now);
    this.out.clear();
    this.stats.clearsSent += 1;
    this.clearedMarks = new Set(this.pending.map((s) => s.id));
    this.queue.length = 0;
    this.pending.length = 0;
    this.unsentMs = 0;
    this.playEnd = now;
    // Their history is the dropped audio's tail; the next turn must not start with it.
    for (const r of this.resamplers.values()) r.reset();
    this.setState('idle');
    return { clearSent: true, segments };
  }

  /** Stops for good: leaves the ticker, drops everything, frees the encoder. Sends nothing. */
  close(): void {
    if (this.current === 'closed') return;
    this.queue.length = 0;
    this.pending.length = 0;
    this.unsentMs = 0;
    this.setState('closed');
    this.encoder.close();
  }

  onTick(now: number, lagMs: number): void {
    if (lagMs >= this.frameMs) this.stats.lateTicks += 1;
    if (lagMs > this.stats.maxLagMs) this.stats.maxLagMs = lagMs;
    this.pump(now);
    this.checkDone(now);
  }

  /** The one place state changes: attaches to the ticker while playing, wakes waiters otherwise. */
  private setState(next: PlayoutState): void {
    if (next === this.current) return;
    this.current = next;
    if (next === 'playing') {
      this.clock.attach(this);
      return;
    }
    this.clock.detach(this);
    this.inTurn = false;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Sends everything due: whole messages while Telnyx's estimated queue stays ≤ maxAheadMs. */
  private pump(now: number): void {
    if (this.pumping) return; // re-entered from an event handler: the running loop picks it up
    this.pumping = true;
    try {
      while (this.current === 'playing' && this.queue.length > 0) {
        const seg = this.queue[0]!;
        if (seg.sentFrames < seg.frames) {
          const frames = Math.min(this.framesPerMessage, seg.frames - seg.sentFrames);
          const ms = frames * this.frameMs;
          const from = Math.max(this.playEnd, now);
          if (from + ms - now > this.maxAheadMs) return;
          if (this.inTurn && this.playEnd < now) this.stats.underruns += 1;
          const first = seg.sentFrames === 0;
          if (first) seg.startAt = from;
          // Silence only when the segment came after everything before it had played. Queued audio
          // sent late (a stalled loop) continues the stream: the RTP output keeps its timestamps
          // consecutive, so the browser's jitter buffer absorbs the lateness instead of playing a gap.
          const silenceMs = first && this.playEnd !== -Infinity ? Math.max(0, seg.enqueuedAt - this.playEnd) : 0;
          this.sendAudio(seg, frames, silenceMs);
          this.playEnd = from + ms;
          this.inTurn = true;
          if (first) this.events.segmentStarted?.(seg.id);
          if (seg.sentFrames < seg.frames) continue;
        } else if (seg.frames === 0) {
          this.events.segmentStarted?.(seg.id);
        }
        if (this.current !== 'playing' || this.queue[0] !== seg) continue; // a handler cleared or closed us
        this.queue.shift();
        this.pending.push(seg);
        this.out.mark(seg.id);
        this.stats.marksSent += 1;
      }
    } finally {
      this.pumping = false;
    }
  }

  private sendAudio(seg: QueuedSegment, frames: number, silenceMs: number): void {
    const n = frames * this.frameSamples;
    const off = seg.sentFrames * this.frameSamples;
    // The encoder's output is a view into its own reused buffer; the output uses it at once.
    const bytes = this.encoder.encode(seg.pcm.subarray(off, off + n));
    this.out.media(bytes, silenceMs);
    seg.sentFrames += frames;
    this.unsentMs -= frames * this.frameMs;
    const s = this.stats;
    s.framesSent += frames;
    s.messagesSent += 1;
    s.bytesSent += bytes.length;
  }

  /** Idle once the queue is empty and every mark is back, or (marks lost) at playEnd + grace. */
  private checkDone(now: number): void {
    if (this.current !== 'playing' || this.queue.length > 0) return;
    if (this.pending.length > 0) {
      if (now < this.playEnd + this.markGraceMs) return;
      this.opts.logger?.warn({ segments: this.pending.length }, 'playout: marks not echoed; assuming played');
      for (const s of this.pending.splice(0)) this.events.segmentDone?.(s.id, { confirmed: false });
      if (this.current !== 'playing' || this.queue.length > 0) return;
    }
    this.setState('idle');
    this.events.idle?.();
  }

  private heard(now: number): SegmentPlayback[] {
    const sent = [...this.pending, ...this.queue.filter((s) => s.sentFrames > 0)];
    const played = new Map<QueuedSegment, number>();
    let unplayed = Math.max(0, this.playEnd - now);
    for (let i = sent.length - 1; i >= 0; i -= 1) {
      const s = sent[i]!;
      const sentMs = s.sentFrames * this.frameMs;
      const cut = Math.min(unplayed, sentMs);
      played.set(s, sentMs - cut);
      unplayed -= cut;
    }
    return [...this.pending, ...this.queue].map((s) => {
      const sentMs = s.sentFrames * this.frameMs;
      const playedMs = Math.min(played.get(s) ?? 0, s.contentMs);
      const fraction = s.contentMs > 0 ? playedMs / s.contentMs : 0;
      return { id: s.id, totalMs: s.contentMs, sentMs, playedMs, fraction };
    });
  }

  private resamplerFor(rate: number): StreamingResampler | null {
    if (rate === this.opts.codecRate) return null;
    let r = this.resamplers.get(rate);
    if (!r) {
      r = new StreamingResampler(rate, this.opts.codecRate);
      this.resamplers.set(rate, r);
    }
    return r;
  }
}
