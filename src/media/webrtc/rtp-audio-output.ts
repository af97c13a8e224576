/**
 * The agent's side of a browser call as RTP: the stream playout (media/playout) paces, resamples
 * and encodes 20 ms Opus frames at 48 kHz on the shared drift-corrected clock; this output stamps
 * them with RTP sequence numbers and timestamps and reports segment marks once they have played.
 *
 * Timestamps are media time: within continuous audio they advance by exactly the samples sent
 * (960 per packet), also when packets go out late because the event loop stalled or the process
 * was starved of CPU — the browser's jitter buffer absorbs lateness; a timestamp gap would make it
 * play silence in the middle of a sentence. When the agent really was silent (the playout reports
 * the silence before a segment that came after everything before it had played) the timestamp
 * jumps by that silence and the packet carries the marker bit, so the browser places the new
 * talkspurt correctly instead of treating it as late audio (RFC 3551 §4.1).
 *
 * Mark timing, the model the playout uses for Telnyx: `playEnd` is when the browser will have
 * played everything sent; a packet starts at max(playEnd, now). A mark "plays" at playEnd: its echo
 * is a timer, not a round trip.
 *
 * Bounded: one timer per segment mark in flight (the playout holds at most maxAheadMs of audio).
 */
import { realTimers, type CancelTimer, type Timers } from '../../lib/timers';
import type { PlayoutOutput } from '../playout/types';
import type { RtpOut } from './peer';

/** RFC 7587: the Opus RTP clock is 48 kHz, whatever the encoder's internal rate. */
export const OPUS_RTP_RATE = 48000;
/** One Opus packet per 20 ms, as the playout encodes them. */
const FRAME_MS = 20;
const TICKS_PER_MS = OPUS_RTP_RATE / 1000;
const FRAME_TICKS = FRAME_MS * TICKS_PER_MS;

export interface RtpAudioOutputDeps {
  send(pkt: RtpOut): void;
  /** Monotonic ms: the playout's own clock, so both model the same playEnd. */
  now(): number;
  /** The segment named by a playout mark has played (StreamPlayout.onMark); or set `played` later. */
  played?(markName: string): void;
  /** Mark timers only; `now` stays the playout's clock. Default: real timers. */
  timers?: Timers;
  /** RFC 3550 §5.1: random initial sequence number and timestamp. */
  random?: () => number;
}

export class RtpAudioOutput implements PlayoutOutput {
  private seq: number;
  private timestamp: number;
  private playEnd = -Infinity;
  private talkspurtStart = true;
  private readonly marks = new Set<CancelTimer>();
  private readonly timers: Timers;
  packetsSent = 0;
  /** Where playout confirmations go: the playout's onMark, called straight from the mark's timer. */
  played: (markName: string) => void;

  constructor(private readonly d: RtpAudioOutputDeps) {
    const random = d.random ?? Math.random;
    this.seq = Math.floor(random() * 0x10000);
    this.timestamp = Math.floor(random() * 0x100000000) >>> 0;
    this.timers = d.timers ?? realTimers;
    this.played = d.played ?? (() => undefined);
  }

  media(bytes: Uint8Array, silenceMs: number): void {
    if (silenceMs > 0 && this.packetsSent > 0) {
      this.timestamp = (this.timestamp + Math.round(silenceMs * TICKS_PER_MS)) >>> 0;
      this.talkspurtStart = true;
    }
    const from = Math.max(this.playEnd, this.d.now());
    // Copied: the encoder reuses its buffer, and the stack keeps the packet for retransmission.
    this.d.send({ seq: this.seq, timestamp: this.timestamp, marker: this.talkspurtStart, payload: Buffer.from(bytes) });
    this.packetsSent += 1;
    this.talkspurtStart = false;
    this.seq = (this.seq + 1) & 0xffff;
    this.timestamp = (this.timestamp + FRAME_TICKS) >>> 0;
    this.playEnd = from + FRAME_MS;
  }

  mark(name: string): void {
    const cancel = this.timers.after(Math.max(0, this.playEnd - this.d.now()), () => {
      this.marks.delete(cancel);
      this.played(name);
    });
    this.marks.add(cancel);
  }

  /**
   * Barge-in: marks of cleared audio are never reported (the playout ignores them anyway). What the
   * browser already buffered (≤ the playout's maxAheadMs) still plays; the next packet starts a new
   * talkspurt, its timestamp continuing after the last one sent (plus the silence the playout
   * reports) so it never looks like a repeat.
   */
  clear(): void {
    this.cancelMarks();
    this.playEnd = Math.min(this.playEnd, this.d.now());
    this.talkspurtStart = true;
  }

  close(): void {
    this.cancelMarks();
  }

  private cancelMarks(): void {
    for (const cancel of this.marks) cancel();
    this.marks.clear();
  }
}
