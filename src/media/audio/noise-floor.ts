/**
 * Frame energy and an adaptive background-noise estimate, shared by EnergyVad (speech decision) and
 * SileroVad (inference gating). Pure arithmetic over Int16Array; fixed memory.
 *
 * Tracking rules (rates are per second so any frame length works):
 *  - Falls fast (time constant ≈ 60 ms) when a frame is quieter than the floor: the floor is the
 *    level of the quietest recent audio, and speech always has quieter gaps between syllables.
 *  - Rises slowly (3 dB/s; 0.5 dB/s while the caller is judged to be speaking) so a long utterance
 *    does not lift the floor into the speech level.
 *  - Snaps up when the level has been steady for ~480 ms (std-dev < 1.5 dB): speech energy swings
 *    by >> 1.5 dB at the 4–5 Hz syllable rate, a fan, line hiss or hum does not. This is what makes a
 *    new steady noise stop counting as speech within half a second instead of many seconds.
 */

/** Frames quieter than this (digital silence) are clamped here so log() stays finite. */
export const MIN_DBFS = -100;
const FULL_SCALE_SQ = 32768 * 32768;
const FALL_TAU_MS = 60;
const RISE_DB_PER_S = 3;
const RISE_IN_SPEECH_DB_PER_S = 0.5;
const STEADY_WINDOW_MS = 480;
const STEADY_STD_DB = 1.5;
/** After a snap the floor sits this far under the steady level, so the steady noise reads ≈ +1 dB. */
const SNAP_BELOW_DB = 1;

/** Mean-square level of `pcm` in dBFS (a full-scale square wave is 0 dBFS, a full-scale sine −3). */
export function frameDbfs(pcm: Int16Array, from = 0, to = pcm.length): number {
  const n = to - from;
  if (n <= 0) return MIN_DBFS;
  let sum = 0;
  for (let i = from; i < to; i += 1) {
    const v = pcm[i]!;
    sum += v * v;
  }
  const db = 10 * Math.log10(sum / n / FULL_SCALE_SQ);
  return db > MIN_DBFS ? db : MIN_DBFS;
}

export class NoiseFloor {
  private floor = Number.NaN;
  private readonly fallAlpha: number;
  private readonly riseStep: number;
  private readonly riseStepInSpeech: number;
  /** Recent frame levels for the steadiness test (fixed-size ring; the oldest is overwritten). */
  private readonly recent: Float64Array;
  private recentHead = 0;
  private recentCount = 0;

  /**
   * @param initialDb start here instead of at the first frame's level. Right for a gate (a low start
   *   only costs a few extra inferences if the call opens with noise, and catches a caller who talks
   *   from the first frame), wrong for a speech decision (the noise would read as speech).
   */
  constructor(
    frameMs: number,
    private readonly initialDb = Number.NaN,
  ) {
    if (!(frameMs > 0)) throw new RangeError(`frameMs must be positive, got ${frameMs}`);
    this.floor = initialDb;
    this.fallAlpha = 1 - Math.exp(-frameMs / FALL_TAU_MS);
    this.riseStep = (RISE_DB_PER_S * frameMs) / 1000;
    this.riseStepInSpeech = (RISE_IN_SPEECH_DB_PER_S * frameMs) / 1000;
    this.recent = new Float64Array(Math.max(4, Math.round(STEADY_WINDOW_MS / frameMs)));
  }

  /** Current estimate in dBFS (NaN before the first frame unless an initial level was given). */
  get db(): number {
    return this.floor;
  }

  /** Feeds one frame's level; `inSpeech` slows the rise. Returns the updated floor. */
  update(levelDb: number, inSpeech: boolean): number {
    if (Number.isNaN(this.floor)) {
      this.floor = levelDb;
    } else if (levelDb < this.floor) {
      this.floor += this.fallAlpha * (levelDb - this.floor);
    } else {
      this.floor += Math.min(levelDb - this.floor, inSpeech ? this.riseStepInSpeech : this.riseStep);
    }
    const win = this.recent;
    win[this.recentHead] = levelDb;
    this.recentHead = (this.recentHead + 1) % win.length;
    if (this.recentCount < win.length) this.recentCount += 1;
    if (this.recentCount === win.length) {
      let sum = 0;
      let sq = 0;
      for (let i = 0; i < win.length; i += 1) {
        sum += win[i]!;
        sq += win[i]! * win[i]!;
      }
      const mean = sum / win.length;
      const variance = Math.max(0, sq / win.length - mean * mean);
      if (variance < STEADY_STD_DB * STEADY_STD_DB && mean - SNAP_BELOW_DB > this.floor) this.floor = mean - SNAP_BELOW_DB;
    }
    return this.floor;
  }

  reset(): void {
    this.floor = this.initialDb;
    this.recentHead = 0;
    this.recentCount = 0;
  }
}
