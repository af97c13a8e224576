/**
 * Voice activity detection contract shared by the energy and Silero detectors.
 *
 * Why `push(): number | Promise<number>`: the energy VAD is synchronous and costs ~1 µs a frame, while
 * Silero needs onnxruntime's async `session.run`. One signature serves both without making the common
 * case pay for a promise: a push resolves synchronously whenever no model inference is outstanding
 * (always for EnergyVad; for SileroVad when every complete frame in the push was energy-gated, which is
 * most of a call — the caller is silent while the agent talks). Callers do:
 *
 *   const r = vad.push(frame);
 *   if (typeof r === 'number') onProb(r); else r.then(onProb);
 *
 * Results resolve in push order (a later push never settles before an earlier one), so frames can be
 * handed to the Endpointer in order from either branch. Frame sizes differ per detector (20 ms energy,
 * 32 ms Silero); push any length and the detector frames internally, keeping a bounded remainder.
 */

export type VadKind = 'energy' | 'silero';

export interface Vad {
  readonly kind: VadKind;
  /** The rate `push` takes: 16000, or 8000 for a Silero VAD that scores telephony audio as it arrives. */
  readonly sampleRate: number;
  /** Samples per scored frame at `sampleRate` (EnergyVad 320 = 20 ms; SileroVad 512 / 256 = 32 ms, what v5 expects). */
  readonly frameSamples: number;
  /**
   * How long after the audio's speech really ended this detector still reports speech (its
   * look-behind). The endpointer subtracts it from STT_SILENCE_MS so the endpoint is timed from the
   * end of the audio's speech, not from the detector's late verdict.
   */
  readonly endLagMs: number;
  /** Running counters (read at the end of a stream for metrics). */
  readonly stats: VadStats;
  /**
   * Feeds mono PCM16 at `sampleRate` (any length; normally one 20 ms frame). Every complete frame is scored
   * in order. Returns the speech probability (0..1) of the most recent complete frame — or the previous
   * value when this push completed no frame — synchronously when possible, else as a promise.
   */
  push(pcm: Int16Array): number | Promise<number>;
  /** Forgets all per-call history (noise floor, recurrent state, buffered samples). */
  reset(): void;
  /** The call is over: release what the detector holds outside this object (worker-side state). */
  dispose?(): void;
}

/** Counters a detector exposes for metrics and the benchmark. */
export interface VadStats {
  /** Complete frames seen. */
  frames: number;
  /** Frames scored by the model (Silero) — the rest were gated or dropped. */
  inferred: number;
  /** Frames skipped by the energy gate and scored 0. */
  gated: number;
  /** Frames never scored because the backlog or model queue was full (overload). */
  dropped: number;
}
