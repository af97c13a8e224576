/**
 * The contracts between the parts of a call's media path, shared by both transports (Telnyx media
 * streams in media/session, browser RTP in media/webrtc): a CallTransport pushes decoded caller
 * audio into an InboundAudioSink (the speech pipeline) and carries the playout's audio out; the
 * speech pipeline reports what the caller said to a CallInputListener (the conversation).
 */
import type { PlayoutOutput } from './playout/types';

export interface FinalTimings {
  /** ms epoch: speech onset (VAD) and end of speech (last speech frame). */
  speechStartAt: number;
  speechEndAt: number;
  /** ms epoch: endpoint decided (end of speech + STT_SILENCE_MS) and transcript received. */
  endpointAt: number;
  transcriptAt: number;
  audioMs: number;
}

export interface CallInputListener {
  speechStarted(atMs: number): void;
  /** The onset turned out to be a blip (shorter than the minimum speech): nothing was said. */
  speechDiscarded?(): void;
  partial(text: string): void;
  /** false: partial() does nothing, so no partial transcripts are requested (default: requested). */
  readonly wantsPartials?: boolean;
  final(text: string, timings: FinalTimings): void;
  /**
   * The caller stopped and these words may be the whole turn, but the end-of-turn rule waits a little
   * longer: a reply may be prepared (not played) now. `final` follows with the same words if it was the
   * turn, else `speechResumed` (the caller went on; one final with all the words comes later).
   */
  tentative?(text: string): void;
  /** Speech again after a pause in the same utterance. */
  speechResumed?(): void;
  dtmf(digit: string): void;
  /** STT failed for an utterance (outage, timeout): the caller should hear an apology, not silence. */
  sttError(err: Error): void;
}

/** Receives the decoded caller audio of one call, in order, one frame at a time. */
export interface InboundAudioSink {
  /** `pcm` is only valid during the call (a view into a reused buffer). */
  pushPcm(pcm: Int16Array, sampleRate: number): void;
  close(): void;
}

/** Whether a transport that has started can carry audio right now. */
export type TransportLink = 'up' | 'interrupted';

/** What a transport reports to the call that owns it. */
export interface TransportEvents {
  /** Audio flows both ways: greet (a Telnyx stream's `start`; the browser's connection came up). */
  started(): void;
  /**
   * A playout confirmation: everything the playout wrote before the mark `name` has been heard (a
   * Telnyx `mark` echo; the RTP output's play-end timer). Bound to the playout's onMark, so a
   * confirmation reaches the playout in at most two calls.
   */
  played(name: string): void;
  dtmf(digit: string): void;
  /** Up again, or interrupted (a Telnyx stream restart; ICE `disconnected`), after it started. */
  link?(state: TransportLink): void;
  /** Gone for good (idempotent: reported once); whatever it owned is closed. */
  ended(reason: string): void;
}

/**
 * One call's audio path to the caller, implemented by a Telnyx media stream (media/session) and a
 * browser's WebRTC connection (media/webrtc): audio in (decoded PCM pushed into the sink given to
 * open), audio out (`audioOut`, what the playout writes), playout confirmations, DTMF, close.
 *
 * Built before the call's conversation (whose playout writes to `audioOut`), opened once the speech
 * pipeline that consumes its audio exists: nothing is delivered before open().
 */
export interface CallTransport {
  /** What the playout writes: Telnyx media-stream JSON frames, or RTP Opus packets. */
  readonly audioOut: PlayoutOutput;
  open(sink: InboundAudioSink, events: TransportEvents): void;
  /** Ends the transport (idempotent); `ended` is reported once, with this reason. */
  close(reason: string, code?: number): void;
}
