/**
 * A queued segment: its audio resampled to the codec rate once, at enqueue, and padded with
 * silence to whole frames so every media message is ≥ 20 ms (Telnyx's minimum), Opus always gets
 * exactly one 20 ms frame, and the segment's mark falls exactly after its last sample. Encoding
 * is deferred to send time (playout.ts): audio dropped by a barge-in is never encoded, and Opus's
 * cost (~170 µs/frame) is spread over real time instead of blocking the loop for a whole sentence.
 *
 * Pure: no I/O, timers or logs.
 */
import type { StreamingResampler } from '../audio/resampler';

export interface QueuedSegment {
  readonly id: string;
  /** PCM at the codec rate, frames × frameSamples long (the tail is zero padding). */
  readonly pcm: Int16Array;
  readonly frames: number;
  /** Length of the real audio, before padding. */
  readonly contentMs: number;
  sentFrames: number;
  /** Estimated time Telnyx starts playing it (set when its first frame is sent). */
  startAt: number;
  /** When the playout got it (set by enqueue): audio before this moment was silence, not lateness. */
  enqueuedAt: number;
}

/**
 * Resamples `samples` (null resampler = already at the codec rate) into a new buffer of whole
 * frames. The resampler's history carries over from the previous segment at the same rate, so
 * back-to-back segments join without a click; it is fed 20 ms at a time so its internal buffers
 * never grow beyond their initial size.
 */
export function prepareSegment(
  id: string,
  samples: Int16Array,
  resampler: StreamingResampler | null,
  codecRate: number,
  frameSamples: number,
): QueuedSegment {
  let out: Int16Array;
  let count: number;
  if (!resampler) {
    out = new Int16Array(roundUp(samples.length, frameSamples));
    out.set(samples);
    count = samples.length;
  } else {
    const { inRate, outRate } = resampler;
    // Polyphase output over any chunking is at most ⌈n × out / in⌉ + 1 samples.
    out = new Int16Array(roundUp(Math.ceil(((samples.length + 1) * outRate) / inRate) + 2, frameSamples));
    count = 0;
    const chunk = Math.ceil(inRate / 50);
    for (let i = 0; i < samples.length; i += chunk) {
      const y = resampler.process(samples.subarray(i, i + chunk));
      if (count + y.length > out.length) out = grow(out, roundUp(count + y.length, frameSamples));
      out.set(y, count);
      count += y.length;
    }
  }
  const frames = Math.ceil(count / frameSamples);
  return {
    id,
    pcm: out.subarray(0, frames * frameSamples),
    frames,
    contentMs: (count * 1000) / codecRate,
    sentFrames: 0,
    startAt: 0,
    enqueuedAt: 0,
  };
}

function roundUp(n: number, m: number): number {
  return Math.ceil(n / m) * m;
}

function grow(a: Int16Array, n: number): Int16Array {
  const b = new Int16Array(n);
  b.set(a);
  return b;
}
