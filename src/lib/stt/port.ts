/**
 * The speech-to-text port: what the runtime asks of a transcription service. The speech pipeline
 * depends on this interface only; the composition root picks the implementation — the Whisper HTTP
 * client (whisper-client.ts) in production, the scripted in-memory one (fake-stt.ts) in tests.
 *
 * Every implementation keeps the same promises (tests/integration/stt-contract.test.ts runs one contract
 * against both): text comes back trimmed ('' is a valid answer: silence); empty audio is refused
 * with a non-retryable `stt_failed` (400) before anything is sent; the caller's signal rejects
 * waiting and in-flight requests with `stt_aborted`; a service failure is `stt_failed`, retryable
 * when the service may recover.
 */
export interface TranscribeRequest {
  /** Where the service lives (a tenant may name its own). */
  url: string;
  /** Mono PCM16 at 16 kHz. */
  pcm16k: Int16Array;
  /** ISO-639-1 code, e.g. "en"; omitted → the service detects the language. */
  language?: string;
  /** Cancels waiting and in-flight requests (barge-in, hangup). */
  signal?: AbortSignal;
  /** Model name where the service takes one; default "whisper-1". */
  model?: string;
  /**
   * What the caller said just before this audio (the same utterance, transcribed already): the service
   * continues that text (OpenAI's and whisper.cpp's `prompt`), so the runtime need not send the earlier
   * audio again. Omitted when there is none.
   */
  prompt?: string;
}

export interface Transcript {
  text: string;
  /** From the call of transcribe() to the answer, queue wait and a retry included. */
  latencyMs: number;
  /** Requests made to the service (0 when nothing needed sending). */
  attempts: number;
}

export interface SpeechToText {
  transcribe(req: TranscribeRequest): Promise<Transcript>;
}

/** The sample rate every implementation takes audio at. */
export const STT_SAMPLE_RATE = 16000;
