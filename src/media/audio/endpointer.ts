/**
 * Endpointer: turns (16 kHz PCM frame, speech probability) pairs into utterances. A pure state
 * machine — time is the count of samples pushed, so there are no timers and tests need no clock.
 *
 *   idle ──(speech prob ≥ onsetThreshold for onsetMs in a row)──▶ speech   emits speechStart
 *   speech ──(prob < offsetThreshold for silenceMs in a row)──▶ idle      emits final | discarded
 *   speech ──(buffer reaches maxUtteranceMs)──▶ idle                       emits final (max_length)
 *   while in speech, after partialMinMs of speech: a partial at most every chunkMs, on speech frames
 *   speech, silence reaches pauseMs ──▶ speech (still)                      emits pause (once per silence run)
 *   speech after a pause ──▶ speech (same utterance)                       emits resumed
 *   speech, silence after a pause reaches settledMs ──▶ speech (still)     emits settled (once per silence run)
 *
 * End of turn from what was said: a `pause` carries the utterance so far, for a transcript taken as
 * soon as the caller stops; the owner may then move this silence run's end with `endAfter(ms)`
 * (shorter for a finished sentence, longer for an unfinished one). Speech resuming before the end
 * keeps the same utterance (one turn, one final) and puts the end back at silenceMs. A final ending
 * a silence run that had a pause carries its `pauseId`: no speech came after that pause's audio.
 *
 * Audio: the last preRollMs before the onset run (a bounded ring; older audio is overwritten) is
 * prepended at onset, then every frame is appended to an utterance buffer preallocated to
 * maxUtteranceMs (bounded: at the cap the utterance is finalised with reason max_length; any rest of
 * that frame starts the next pre-roll). A final holds pre-roll + speech + at most keepTrailingMs of
 * the trailing silence: STT needs a little tail to close the last word, not the whole silenceMs wait.
 * The trimmed tail seeds the next pre-roll, so no audio is duplicated or lost between utterances.
 * `speechMs` counts frames judged speech (pauses inside the utterance excluded).
 *
 * End of speech (when the silenceMs wait starts): a VAD reports speech for a while after the audio's
 * speech has stopped (its look-behind, `vadEndLagMs`: ~64 ms for Silero, 0 for the energy VAD), and
 * that lag varies by ±30 ms with the sound of the last word. So when the VAD's first silent frame
 * comes, the wait is backdated to the measured end of speech: the end of the last 2.5 ms block whose level
 * was within `quietDb` (30 dB) of the utterance's loudest 20 ms frame and above −60 dBFS, when that lies
 * within 2 × vadEndLagMs before the VAD's verdict (a quiet tail the VAD still called speech); else
 * (noise keeps the level up, or no lag to undo) by vadEndLagMs. The final's `endedAtMs` is that
 * same estimate, so turn latencies are measured from the end of the caller's speech.
 *
 * Memory: the utterance buffer is 2 bytes × 16 × maxUtteranceMs (30 s → 960 KB, allocated zeroed and
 * only resident once touched); size it with the per-call memory bar in mind.
 */
import { AppError } from '../../lib/errors';
import { Int16RingBuffer } from './ring-buffer';

export interface EndpointerConfig {
  /** STT_PRE_ROLL_MS. */
  preRollMs: number;
  /** STT_SILENCE_MS: continuous non-speech that ends an utterance (from the end of speech). */
  silenceMs: number;
  /** How long the VAD keeps reporting speech after the audio's speech ends (Vad.endLagMs; default 0). */
  vadEndLagMs?: number;
  /** Level below the utterance's peak (dB) that counts as the end of speech (default 30). */
  quietDb?: number;
  /** STT_CHUNK_MS: cadence of partial snapshots. */
  chunkMs: number;
  /** STT_PARTIAL_MIN_MS: speech needed before the first partial. */
  partialMinMs: number;
  /** Hard cap on one utterance including pre-roll (default 30 000). */
  maxUtteranceMs?: number;
  /** Shorter utterances are discarded as blips (default 120: shorter than any word but "uh"). */
  minSpeechMs?: number;
  /** Probability that starts speech (default 0.5, Silero's own threshold). */
  onsetThreshold?: number;
  /** Probability below which a frame counts as silence once speaking (default 0.35 = onset − 0.15, Silero's hysteresis). */
  offsetThreshold?: number;
  /** Consecutive speech needed for onset (default 60 ms = 3 frames: rejects clicks, keeps onset ≤ 150 ms). */
  onsetMs?: number;
  /** Trailing silence kept in a final (default 200 ms). */
  keepTrailingMs?: number;
  /** Silence (from the end of speech) that emits a pause (default 120 ms; 0 = no pause events). */
  pauseMs?: number;
  /** Silence after a pause that emits `settled` (the caller has really stopped, for now); 0/unset = never. */
  settledMs?: number;
  sampleRate?: number;
}

export type EndpointerEvent =
  | { type: 'speechStart'; /** when the onset run began */ atMs: number; /** when it was confirmed */ detectedAtMs: number }
  | { type: 'partial'; /** copy of the utterance so far, pre-roll included */ audio: Int16Array; speechMs: number }
  | { type: 'pause'; /** numbers the pauses of this endpointer */ pauseId: number; /** copy of the utterance so far */ audio: Int16Array; speechMs: number }
  | {
      type: 'final';
      audio: Int16Array;
      speechMs: number;
      startedAtMs: number;
      /** End of the last speech frame. */
      endedAtMs: number;
      reason: 'silence' | 'max_length';
      /** The pause of the silence run that ended the utterance (no speech after its audio). */
      pauseId?: number;
    }
  | { type: 'discarded'; speechMs: number; startedAtMs: number }
  /** Speech again after a pause: the same utterance goes on (the pause's transcript is not the turn). */
  | { type: 'resumed'; pauseId: number }
  /** The silence after pause `pauseId` reached settledMs (once per silence run). */
  | { type: 'settled'; pauseId: number };

type State =
  | { kind: 'idle'; /** consecutive samples at or above the onset threshold */ run: number }
  | {
      kind: 'speech';
      startedAt: number;
      speechSamples: number;
      silenceSamples: number;
      lastSpeechEnd: number;
      /** Clock at the end of the last 2.5 ms block loud enough to be speech (level-based end of speech). */
      loudEnd: number;
      /** Loudest frame of the utterance so far (dBFS). */
      peakDb: number;
      sinceLastPartial: number;
      partials: number;
      /** Silence that ends this silence run (silenceMs unless endAfter moved it). */
      limit: number;
      /** The pause emitted in this silence run, if any. */
      pauseId: number | undefined;
      /** `settled` was emitted in this silence run. */
      settled: boolean;
    };

const NO_EVENTS: readonly EndpointerEvent[] = Object.freeze([]);
/** Frames quieter than this are never speech, whatever the utterance's peak. */
const MIN_SPEECH_DBFS = -60;

const FULL_SCALE_SQ = 32768 * 32768;
/** 2.5 ms at 16 kHz: the resolution of the level-based end of speech. */
const LEVEL_BLOCK = 40;

export class Endpointer {
  private readonly rate: number;
  private readonly preRoll: number;
  private readonly silence: number;
  private readonly chunk: number;
  private readonly partialMin: number;
  private readonly minSpeech: number;
  private readonly onsetRun: number;
  private readonly keepTrailing: number;
  private readonly onsetThreshold: number;
  private readonly offsetThreshold: number;
  private readonly vadLag: number;
  private readonly quietDb: number;
  private readonly pause: number;
  private readonly settle: number;
  private pauses = 0;
  private readonly ring: Int16RingBuffer;
  private readonly utterance: Int16Array;
  private len = 0;
  /** Samples pushed since construction: the endpointer's clock. */
  private clock = 0;
  private state: State = { kind: 'idle', run: 0 };

  constructor(cfg: EndpointerConfig) {
    this.rate = cfg.sampleRate ?? 16000;
    const s = (ms: number) => Math.round((ms * this.rate) / 1000);
    const maxMs = cfg.maxUtteranceMs ?? 30000;
    const onsetMs = cfg.onsetMs ?? 60;
    this.onsetThreshold = cfg.onsetThreshold ?? 0.5;
    this.offsetThreshold = cfg.offsetThreshold ?? 0.35;
    const problems: string[] = [];
    if (!(cfg.preRollMs >= 0)) problems.push('preRollMs must be ≥ 0');
    if (!(cfg.silenceMs > 0)) problems.push('silenceMs must be > 0');
    if (!(cfg.chunkMs > 0)) problems.push('chunkMs must be > 0');
    if (!(cfg.partialMinMs >= 0)) problems.push('partialMinMs must be ≥ 0');
    if (!(onsetMs > 0)) problems.push('onsetMs must be > 0');
    if (!(maxMs > cfg.preRollMs + onsetMs)) problems.push('maxUtteranceMs must exceed preRollMs + onsetMs');
    if (!(this.offsetThreshold <= this.onsetThreshold)) problems.push('offsetThreshold must be ≤ onsetThreshold');
    if (problems.length > 0) throw new AppError('invalid_endpointer_config', problems.join('; '));
    this.preRoll = s(cfg.preRollMs);
    this.silence = s(cfg.silenceMs);
    this.chunk = s(cfg.chunkMs);
    this.partialMin = s(cfg.partialMinMs);
    this.minSpeech = s(cfg.minSpeechMs ?? 120);
    this.onsetRun = s(onsetMs);
    this.keepTrailing = s(cfg.keepTrailingMs ?? 200);
    this.vadLag = s(Math.max(0, cfg.vadEndLagMs ?? 0));
    this.quietDb = cfg.quietDb ?? 30;
    this.pause = s(Math.max(0, cfg.pauseMs ?? 120));
    this.settle = cfg.settledMs ? Math.max(this.pause, s(cfg.settledMs)) : 0;
    // Pre-roll plus the onset run plus slack for the frame that completes it (frames ≤ 60 ms).
    this.ring = new Int16RingBuffer(this.preRoll + this.onsetRun + s(60));
    this.utterance = new Int16Array(s(maxMs));
  }

  get isInSpeech(): boolean {
    return this.state.kind === 'speech';
  }

  /** Capacity of the pre-roll ring and of the utterance buffer, in samples (both fixed). */
  get capacities(): { preRoll: number; utterance: number } {
    return { preRoll: this.ring.capacity, utterance: this.utterance.length };
  }

  /** Feeds one frame and its speech probability; returns the events it caused (usually none). */
  push(pcm: Int16Array, speechProb: number): readonly EndpointerEvent[] {
    this.clock += pcm.length;
    const st = this.state;
    if (st.kind === 'idle') return this.pushIdle(st, pcm, speechProb);
    const fit = Math.min(pcm.length, this.utterance.length - this.len);
    this.utterance.set(pcm.subarray(0, fit), this.len);
    this.len += fit;
    const isSpeech = speechProb >= this.offsetThreshold;
    let resumedAfter: number | undefined;
    if (isSpeech) this.trackLevel(st, pcm);
    if (isSpeech) {
      st.speechSamples += pcm.length;
      st.silenceSamples = 0;
      st.lastSpeechEnd = this.clock;
      // The caller goes on: the same utterance, and the end is the silence rule's again.
      st.limit = this.silence;
      if (st.pauseId !== undefined) resumedAfter = st.pauseId;
      st.pauseId = undefined;
      st.settled = false;
    } else if (st.silenceSamples === 0) {
      // The VAD's first silent frame: the wait starts at the end of speech, not at this verdict.
      const before = this.clock - pcm.length;
      const quietTail = before - st.loudEnd;
      const backdate = quietTail > 0 && quietTail <= 2 * this.vadLag ? quietTail : this.vadLag;
      st.silenceSamples = Math.min(backdate, before - st.startedAt) + pcm.length;
    } else {
      st.silenceSamples += pcm.length;
    }
    st.sinceLastPartial += pcm.length;
    if (this.len >= this.utterance.length) return [this.end(st, 'max_length', pcm.subarray(fit), speechProb)];
    if (st.silenceSamples >= st.limit) return [this.end(st, 'silence', pcm.subarray(pcm.length), speechProb)];
    if (resumedAfter !== undefined) return [{ type: 'resumed', pauseId: resumedAfter }];
    if (this.pause > 0 && st.silenceSamples >= this.pause && st.pauseId === undefined && st.speechSamples >= this.minSpeech) {
      this.pauses += 1;
      st.pauseId = this.pauses;
      return [{ type: 'pause', pauseId: st.pauseId, audio: this.utterance.slice(0, this.len), speechMs: this.ms(st.speechSamples) }];
    }
    if (this.settle > 0 && st.pauseId !== undefined && !st.settled && st.silenceSamples >= this.settle) {
      st.settled = true;
      return [{ type: 'settled', pauseId: st.pauseId }];
    }
    if (isSpeech && st.speechSamples >= this.partialMin && (st.partials === 0 || st.sinceLastPartial >= this.chunk)) {
      st.partials += 1;
      st.sinceLastPartial = 0;
      return [{ type: 'partial', audio: this.utterance.slice(0, this.len), speechMs: this.ms(st.speechSamples) }];
    }
    return NO_EVENTS;
  }

  /**
   * Level-based end of speech, at 2.5 ms resolution: the utterance's loudest frame so far, and the
   * end of the last 2.5 ms block of this frame within quietDb of it (and above −60 dBFS).
   */
  private trackLevel(st: Extract<State, { kind: 'speech' }>, pcm: Int16Array): void {
    const n = pcm.length;
    if (n === 0) return;
    let total = 0;
    let lastLoud = -1;
    const threshold = Math.max(MIN_SPEECH_DBFS, st.peakDb - this.quietDb);
    // Energy a block must reach: mean square ≥ 10^(threshold/10) × full scale².
    const blockMin = Math.pow(10, threshold / 10) * FULL_SCALE_SQ * LEVEL_BLOCK;
    for (let b = 0; b < n; b += LEVEL_BLOCK) {
      const end = Math.min(n, b + LEVEL_BLOCK);
      let sum = 0;
      for (let i = b; i < end; i += 1) {
        const v = pcm[i]!;
        sum += v * v;
      }
      total += sum;
      if (sum >= blockMin * ((end - b) / LEVEL_BLOCK)) lastLoud = end;
    }
    const level = 10 * Math.log10(total / n / FULL_SCALE_SQ);
    if (level > st.peakDb) st.peakDb = level;
    if (lastLoud >= 0) st.loudEnd = this.clock - n + lastLoud;
  }

  /** The pause of the silence run in progress (undefined while speaking, idle, or before pauseMs). */
  get currentPauseId(): number | undefined {
    return this.state.kind === 'speech' ? this.state.pauseId : undefined;
  }

  /**
   * Moves the end of the silence run of pause `pauseId` to `ms` of silence; if that much silence has
   * already passed, ends the utterance now (returned). A stale pause (speech resumed since) changes nothing.
   */
  endAfter(pauseId: number, ms: number): readonly EndpointerEvent[] {
    const st = this.state;
    if (st.kind !== 'speech' || st.pauseId !== pauseId) return NO_EVENTS;
    st.limit = Math.max(1, Math.round((ms * this.rate) / 1000));
    if (st.silenceSamples < st.limit) return NO_EVENTS;
    return [this.end(st, 'silence', new Int16Array(0), 0)];
  }

  /** Drops any utterance in progress and the pre-roll (barge-in handled elsewhere, teardown). The clock keeps running. */
  reset(): void {
    this.ring.clear();
    this.len = 0;
    this.setState({ kind: 'idle', run: 0 });
  }

  private pushIdle(st: Extract<State, { kind: 'idle' }>, pcm: Int16Array, prob: number): readonly EndpointerEvent[] {
    this.ring.write(pcm);
    st.run = prob >= this.onsetThreshold ? st.run + pcm.length : 0;
    if (st.run < this.onsetRun) return NO_EVENTS;
    const startedAt = this.clock - st.run;
    this.len = this.ring.copyLatest(Math.min(this.preRoll + st.run, this.utterance.length), this.utterance, 0);
    this.setState({
      kind: 'speech',
      startedAt,
      speechSamples: st.run,
      silenceSamples: 0,
      lastSpeechEnd: this.clock,
      loudEnd: this.clock,
      peakDb: -Infinity,
      sinceLastPartial: 0,
      partials: 0,
      limit: this.silence,
      pauseId: undefined,
      settled: false,
    });
    return [{ type: 'speechStart', atMs: this.ms(startedAt), detectedAtMs: this.ms(this.clock) }];
  }

  private end(st: Extract<State, { kind: 'speech' }>, reason: 'silence' | 'max_length', rest: Int16Array, restProb: number): EndpointerEvent {
    const trim = st.silenceSamples - Math.min(st.silenceSamples, this.keepTrailing);
    const keep = Math.max(0, this.len - trim);
    // The trimmed tail and any part of the frame past the cap become the next pre-roll.
    this.ring.clear();
    this.ring.write(this.utterance.subarray(keep, this.len));
    this.ring.write(rest);
    const audio = st.speechSamples >= this.minSpeech ? this.utterance.slice(0, keep) : null;
    this.len = 0;
    this.setState({ kind: 'idle', run: rest.length > 0 && restProb >= this.onsetThreshold ? rest.length : 0 });
    const startedAtMs = this.ms(st.startedAt);
    const speechMs = this.ms(st.speechSamples);
    if (!audio) return { type: 'discarded', speechMs, startedAtMs };
    // End of speech: before the silence run (backdated, see above), or the last speech frame at the cap.
    const endedAt = reason === 'silence' ? this.clock - rest.length - st.silenceSamples : st.lastSpeechEnd;
    const pauseId = reason === 'silence' ? st.pauseId : undefined;
    return { type: 'final', audio, speechMs, startedAtMs, endedAtMs: this.ms(endedAt), reason, ...(pauseId !== undefined ? { pauseId } : {}) };
  }

  /** The one place the state changes. */
  private setState(next: State): void {
    this.state = next;
  }

  private ms(samples: number): number {
    return (samples * 1000) / this.rate;
  }
}
