/** Public shapes of the stream-mode playout (playout.ts). */
import type { Logger } from '../../lib/logger';
import type { Encoding } from '../audio/codecs';
import type { PlayoutClock } from './pacer';

/** One TTS segment (a sentence). `id` names its Telnyx mark, so it must be unique within the call. */
export interface PlayoutSegment {
  id: string;
  /** Mono PCM16 at `sampleRate`; read once during enqueue() (resampled into our own buffer). */
  samples: Int16Array;
  sampleRate: number;
}

export interface PlayoutEvents {
  /** The segment's first frame was sent (it is heard up to maxAheadMs later). */
  segmentStarted?(id: string): void;
  /** Its mark came back (`confirmed`), or marks never did and playEnd + markGraceMs passed. */
  segmentDone?(id: string, info: { confirmed: boolean }): void;
  /** Everything sent is done and nothing is queued. Not emitted by clear() or close(). */
  idle?(): void;
}

/**
 * Where a playout's messages go when they are not Telnyx media-stream JSON (the WebRTC transport
 * sends RTP). The default output wraps `send` with the Telnyx protocol builders.
 */
export interface PlayoutOutput {
  /**
   * One message of encoded audio: a view into the encoder's reused buffer, valid during the call only.
   * `silenceMs`: how long the agent's audio was silent right before it (the segment arrived after
   * everything before it had played). 0 within continuous audio — also when the message goes out
   * late because the event loop stalled: that audio was delayed, not preceded by silence.
   */
  media(bytes: Uint8Array, silenceMs: number): void;
  /** Everything before it is sent; the output reports it played through StreamPlayout.onMark(name). */
  mark(name: string): void;
  /** Barge-in: stop at once and drop whatever is still queued downstream. */
  clear(): void;
}

export interface StreamPlayoutOptions {
  /** The call's media socket (MediaSocket.send): Telnyx media-stream JSON. Give this or `output`. */
  send?(text: string): void;
  /** Raw output instead of `send` (the WebRTC transport sends RTP). */
  output?: PlayoutOutput;
  /** The bidirectional codec; AMR-WB has no encoder. */
  encoding: Encoding;
  /** The codec's PCM rate (nativeRate(encoding), or the L16 `stream_bidirectional_sampling_rate`). */
  codecRate: number;
  /** Default: the process-wide real-time PlayoutScheduler. */
  clock?: PlayoutClock;
  /** Padding/pacing granularity. Default 20 (RTP packetization). */
  frameMs?: number;
  /** Never more than this much audio sent ahead of real time. Default 200. */
  maxAheadMs?: number;
  /** Audio per media message, 20..100, a multiple of frameMs. Default 60; OPUS always 20. */
  messageMs?: number;
  /** Bound on queued-but-unsent audio; enqueue() beyond it throws PlayoutQueueFullError. Default 60 000. */
  maxQueuedMs?: number;
  /** Fallback when marks never come back: done at estimated play end + this. Default 1000. */
  markGraceMs?: number;
  events?: PlayoutEvents;
  logger?: Pick<Logger, 'warn' | 'debug'>;
}

/** Counters, updated in place (read them any time; never reset). */
export interface PlayoutStats {
  /** 20 ms (frameMs) frames sent. */
  framesSent: number;
  /** Media messages sent (each holds messageMs or, at a segment's end, less). */
  messagesSent: number;
  /** Codec bytes sent (before base64). */
  bytesSent: number;
  marksSent: number;
  clearsSent: number;
  /** Ticks (while attached) that fired a whole frame or more late. */
  lateTicks: number;
  maxLagMs: number;
  /** Sends that found Telnyx's estimated buffer already empty mid-turn (an audible gap). */
  underruns: number;
}

/** How much of one interrupted segment was heard. */
export interface SegmentPlayback {
  id: string;
  /** The segment's audio length (before frame padding). */
  totalMs: number;
  sentMs: number;
  /** Estimated: sent minus what was still queued at Telnyx (see StreamPlayout.clear). */
  playedMs: number;
  /** playedMs / totalMs, in [0, 1]. */
  fraction: number;
}

export interface ClearResult {
  /** False when nothing was playing (no clear message sent). */
  clearSent: boolean;
  /** Every segment not yet done, in play order: sent-but-unconfirmed, partly sent, then unsent. */
  segments: SegmentPlayback[];
}
