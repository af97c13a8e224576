/** Turns a caller's script (say, pause, wait for the agent, hang up) into 20 ms frames at the stream's rate. */
import { resample } from './audio';
import { FRAME_MS, type CallerAudio, type CallerFrames, type CallerStep, type SimCall, type SimEvent } from './sim-call';

/** Caller audio resampled to a codec rate, shared by every call that says the same thing. */
const resampledCache = new WeakMap<Int16Array, Map<number, Int16Array>>();

function atRate(pcm: Int16Array, from: number, to: number): Int16Array {
  if (from === to) return pcm;
  let byRate = resampledCache.get(pcm);
  if (!byRate) resampledCache.set(pcm, (byRate = new Map()));
  let out = byRate.get(to);
  if (!out) byRate.set(to, (out = resample(pcm, from, to)));
  return out;
}

/** Turns the caller's script into 20 ms frames at the codec rate, one per call to next(). */
export class CallerRunner implements CallerFrames {
  private readonly steps: Iterator<CallerStep>;
  private cur:
    | { kind: 'say'; src: Int16Array; srcRate: number; pcm: Int16Array; pos: number; index?: number; text?: string }
    | { kind: 'silence'; left: number }
    | { kind: 'wait'; since: number; quietMs: number; timeoutMs: number }
    | undefined;
  private silence: Int16Array;
  private done = false;
  /** A script ends in a hangup; a plain recording (or no audio) in silence until hangup(). */
  private readonly hangupAtEnd: boolean;

  constructor(
    audio: CallerAudio | undefined,
    private rate: number,
    private readonly call: SimCall,
    private readonly emit: (e: SimEvent) => void,
  ) {
    const steps: Iterable<CallerStep> = !audio ? [] : 'script' in audio ? audio.script : [{ say: audio.pcm, sampleRate: audio.sampleRate }];
    this.steps = steps[Symbol.iterator]();
    this.silence = new Int16Array(rate / 50);
    this.hangupAtEnd = audio !== undefined && 'script' in audio;
  }

  /** The stream was restarted with a codec of another rate: continue where we were. */
  setRate(rate: number): void {
    if (rate === this.rate) return;
    const c = this.cur;
    if (c?.kind === 'say') {
      c.pcm = atRate(c.src, c.srcRate, rate);
      c.pos = Math.round((c.pos * rate) / this.rate);
    }
    this.rate = rate;
    this.silence = new Int16Array(rate / 50);
  }

  /** The next frame, or null when the script says to hang up now. */
  next(now: number): Int16Array | null {
    for (let guard = 0; guard < 1000; guard += 1) {
      const c = this.cur;
      if (!c) {
        if (this.done) return this.silence;
        const r = this.steps.next();
        if (r.done) {
          this.done = true;
          if (this.hangupAtEnd) return null;
          return this.silence;
        }
        const s = r.value;
        if ('hangup' in s) return null;
        if ('say' in s) {
          this.cur = { kind: 'say', src: s.say, srcRate: s.sampleRate, pcm: atRate(s.say, s.sampleRate, this.rate), pos: 0, index: s.index, text: s.text };
          this.call.utterances.push({ index: s.index, text: s.text, startAt: now });
          this.emit({ type: 'utterance', call: this.call, phase: 'start', index: s.index, text: s.text });
        } else if ('silenceMs' in s) {
          this.cur = { kind: 'silence', left: Math.round(s.silenceMs / FRAME_MS) };
        } else {
          this.cur = { kind: 'wait', since: now, quietMs: s.waitForAgent.quietMs ?? 700, timeoutMs: s.waitForAgent.timeoutMs ?? 15_000 };
        }
        continue;
      }
      if (c.kind === 'say') {
        const n = this.silence.length;
        if (c.pos >= c.pcm.length) {
          this.cur = undefined;
          const u = this.call.utterances[this.call.utterances.length - 1];
          if (u) u.endAt = now;
          this.emit({ type: 'utterance', call: this.call, phase: 'end', index: c.index, text: c.text });
          continue;
        }
        const frame = new Int16Array(n);
        frame.set(c.pcm.subarray(c.pos, Math.min(c.pos + n, c.pcm.length)));
        c.pos += n;
        return frame;
      }
      if (c.kind === 'silence') {
        if (c.left <= 0) {
          this.cur = undefined;
          continue;
        }
        c.left -= 1;
        return this.silence;
      }
      // wait for the agent: it must have made a sound since we started waiting, then be quiet.
      const heard = this.call.lastAgentAudioAt > c.since;
      const quietSince = Math.max(this.call.agentBusyUntil, this.call.lastAgentAudioAt);
      if (heard && now - quietSince >= c.quietMs) {
        this.cur = undefined;
        continue;
      }
      if (now - c.since >= c.timeoutMs) {
        this.call.waitTimeouts += 1;
        this.emit({ type: 'wait_timeout', call: this.call });
        this.cur = undefined;
        continue;
      }
      return this.silence;
    }
    return this.silence;
  }
}
