/**
 * The caller's side of a browser call: Opus RTP packets → back in order → decoded at 48 kHz → the
 * call's STT front end (the same SpeechPipeline as PSTN, which resamples to 16 kHz). Lost packets
 * become silence of the same length, so VAD and endpointer timing stay true.
 *
 * Pure: no I/O, timers or logs. Bounded: the reorder window holds 3 packets; a gap is filled with
 * at most MAX_FILL_FRAMES of silence, a larger jump (new source, long DTX pause) restarts in order.
 */
import type { Decoder } from '../audio/codecs';
import { ReorderBuffer } from '../jitter/reorder-buffer';
import type { InboundAudioSink } from '../ports';
import type { RtpIn } from './peer';
import { OPUS_RTP_RATE } from './rtp-audio-output';

/** Packets held back to restore order: 3 × 20 ms, the same window as the Telnyx media path. */
const REORDER_WINDOW = 3;
/** Silence inserted for one gap, at most: 1 s, longer than any endpointing silence needs to see. */
const MAX_FILL_FRAMES = 50;
/** A sequence jump this large is a new stream (or a very long pause), not loss: resync. */
const RESYNC_JUMP = 100;
const FRAME_SAMPLES = OPUS_RTP_RATE / 50;
/**
 * Where the extended sequence count starts above the first packet's number: one 16-bit cycle, so a
 * jump back across the wrap (first packet 10, then 65336) stays a non-negative key for the buffer.
 */
const EXT_ORIGIN = 0x10000;

interface Held {
  timestamp: number;
  payload: Uint8Array;
}

export interface RtpInputStats {
  packets: number;
  decoded: number;
  decodeFailed: number;
  lost: number;
  dtxFilledFrames: number;
  resyncs: number;
}

export class RtpAudioInput {
  readonly stats: RtpInputStats = { packets: 0, decoded: 0, decodeFailed: 0, lost: 0, dtxFilledFrames: 0, resyncs: 0 };
  private readonly reorder: ReorderBuffer<Held>;
  /** Extended (unwrapped) sequence number of the last packet pushed. */
  private lastExt: number | undefined;
  /** RTP timestamp the next packet should carry (the last one's plus its length). */
  private expectedTs: number | undefined;
  private readonly silence = new Int16Array(FRAME_SAMPLES);
  private closed = false;

  constructor(
    private readonly decoder: Decoder,
    private readonly sink: InboundAudioSink,
  ) {
    this.reorder = this.newReorder();
  }

  push(pkt: RtpIn): void {
    if (this.closed || pkt.payload.length === 0) return;
    this.stats.packets += 1;
    const ext = this.unwrap(pkt.seq);
    if (this.lastExt !== undefined && Math.abs(ext - this.lastExt) > RESYNC_JUMP) {
      this.stats.resyncs += 1;
      this.reorder.reset();
      this.expectedTs = undefined;
      this.lastExt = ext; // the new stream's numbering, also when it is below the old one's
    } else if (this.lastExt === undefined || ext > this.lastExt) this.lastExt = ext;
    this.reorder.push(ext, { timestamp: pkt.timestamp, payload: pkt.payload });
  }

  close(): void {
    this.closed = true;
    this.decoder.close();
  }

  /** 16-bit sequence numbers → a monotonic count (RFC 3550 A.1): nearest to the last one seen. */
  private unwrap(seq: number): number {
    if (this.lastExt === undefined) return EXT_ORIGIN + seq;
    const last16 = this.lastExt & 0xffff;
    let delta = seq - last16;
    if (delta > 0x8000) delta -= 0x10000;
    else if (delta < -0x8000) delta += 0x10000;
    return this.lastExt + delta;
  }

  private newReorder(): ReorderBuffer<Held> {
    // push() resyncs on jumps over RESYNC_JUMP itself, so the buffer's own limit never cuts in first.
    const onGap = (n: number) => {
      this.stats.lost += n;
      this.fill(n);
      if (this.expectedTs !== undefined) this.expectedTs = (this.expectedTs + n * FRAME_SAMPLES) >>> 0;
    };
    return new ReorderBuffer<Held>(REORDER_WINDOW, (h) => this.decode(h), onGap, { maxGapFill: RESYNC_JUMP });
  }

  private decode(h: Held): void {
    // In sequence, but later in time than the previous packet's end: the sender paused (DTX).
    if (this.expectedTs !== undefined) {
      const gap = (h.timestamp - this.expectedTs) >>> 0;
      if (gap >= FRAME_SAMPLES && gap < 0x80000000) {
        const n = Math.min(MAX_FILL_FRAMES, Math.floor(gap / FRAME_SAMPLES));
        this.stats.dtxFilledFrames += n;
        this.fill(n);
      }
    }
    const pcm = this.decoder.decode(h.payload);
    this.expectedTs = (h.timestamp + (pcm?.length ?? FRAME_SAMPLES)) >>> 0;
    if (!pcm) {
      this.stats.decodeFailed += 1;
      this.fill(1);
      return;
    }
    this.stats.decoded += 1;
    this.sink.pushPcm(pcm, this.decoder.sampleRate);
  }

  private fill(frames: number): void {
    for (let i = 0; i < Math.min(frames, MAX_FILL_FRAMES); i += 1) {
      // The sink may filter in place: hand it clean zeros every time.
      this.silence.fill(0);
      this.sink.pushPcm(this.silence, OPUS_RTP_RATE);
    }
  }
}
