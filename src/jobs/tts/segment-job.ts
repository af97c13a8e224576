/** One segment of an agent reply to synthesize (tts queue, job name "segment"). */
export interface SegmentJobData {
  callControlId: string;
  /** Turn and position, so the session can drop results of an interrupted turn and keep order. */
  turnId: number;
  index: number;
  text: string;
  voice: string;
  kokoroUrl: string;
  sampleRate: number;
  speed?: number;
  /** Instance whose call bus gets the result (the one holding the media session). */
  notify: string;
}

export const SEGMENT_JOB = 'segment';
/** "Timeout, retry once" (issue 5): one retry, then the session says an apology instead. */
export const SEGMENT_ATTEMPTS = 2;
