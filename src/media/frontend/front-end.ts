/**
 * The speech front end of one call as the speech pipeline sees it: PCM in (any codec rate),
 * endpointer events out, the endpointer's controls (pause transcripts, barge-in). Two
 * implementations: LocalFrontEnd (this thread) and RemoteFrontEnd (a front-end worker thread;
 * front-end-pool.ts). Both keep the endpointer's meaning: events in stream order, `endAfter` with a
 * stale pauseId changes nothing, `reset` forgets the utterance in progress.
 */
import type { EndpointerEvent } from '../audio/endpointer';
import type { VadStats } from '../vad/vad';

/** An endpointer event and the stream clock (16 kHz samples through the endpointer) when it was emitted. */
export type FrontEndEventHandler = (e: EndpointerEvent, streamSamples: number) => void;

/** What the speech pipeline's event half uses of the endpointer (the Endpointer class has all of it). */
export interface EndpointerControl {
  readonly isInSpeech: boolean;
  readonly currentPauseId: number | undefined;
  /** Events it ends now (local); a remote front end delivers them through the handler instead. */
  endAfter(pauseId: number, ms: number): readonly EndpointerEvent[];
  reset(): void;
}

export interface FrontEnd extends EndpointerControl {
  /** Where events go (set once, by the pipeline). */
  attach(handler: FrontEndEventHandler): void;
  push(pcm: Int16Array, sampleRate: number): void;
  /** Frames pushed and not yet through the endpointer. */
  readonly unscoredFrames: number;
  /** The stream clock of the latest event (remote) or of now (local). */
  readonly streamSamples: number;
  /** The call is over; `report` gets the VAD's counters (at once, or when the worker has them). */
  close(report: (stats: VadStats) => void): void;
}
