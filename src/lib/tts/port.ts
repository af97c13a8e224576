/**
 * The text-to-speech port: what the runtime asks of a speech synthesizer. Synthesis (synthesize.ts:
 * files, cache) depends on this interface only; the composition root picks the implementation —
 * the Kokoro HTTP client (kokoro-client.ts) in production, the in-memory tone (fake-tts.ts) in tests.
 *
 * Every implementation keeps the same promises (tests/integration/tts-contract.test.ts runs one
 * contract against both): mono PCM16 audio with at least one sample, at the rate the service
 * produced (not resampled); empty text is refused with a non-retryable `tts_failed` (400) before
 * anything is sent; the caller's signal rejects with `tts_aborted`; a service failure is
 * `tts_failed`, retryable when the service may recover.
 */
export type TtsFormat = 'wav' | 'pcm';

export interface TtsRequest {
  /** Where the service lives (a tenant may name its own). */
  url: string;
  text: string;
  voice: string;
  /** Sample rate we ask for (a service may answer at its own native rate). */
  sampleRate: number;
  speed?: number;
  /** Audio container to ask the service for; default wav. */
  format?: TtsFormat;
  /** Aborts the request (e.g. the caller barged in and the audio is no longer wanted). */
  signal?: AbortSignal;
}

export interface TtsAudio {
  /** Mono PCM16 at `sampleRate`. */
  samples: Int16Array;
  sampleRate: number;
}

export interface TextToSpeech {
  synthesize(req: TtsRequest): Promise<TtsAudio>;
}
