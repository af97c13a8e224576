/**
 * The contracts between the parts of a call's media path, shared by both transports (Telnyx media
 * streams in media/session, browser RTP in media/webrtc): a transport pushes decoded caller audio
 * into an InboundAudioSink (the speech pipeline); the speech pipeline reports what the caller said
 * to a CallInputListener (the conversation).
 */
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
  final(text: string, timings: FinalTimings): void;
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
