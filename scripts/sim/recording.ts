/**
 * Records both sides of a simulated call on one timeline (performance.now() ms) and renders them
 * to a stereo WAV: left = caller (what the simulator sent), right = agent (what the caller heard:
 * streamed audio as played, or the played audio_url files; cut where the runtime cleared/stopped).
 */
import { buildMultiChannelWav, resample } from './audio';

interface Run {
  at: number;
  rate: number;
  parts: Int16Array[];
  samples: number;
}

/** One side of the call: runs of contiguous audio at their play times. */
export class TrackRecorder {
  private readonly runs: Run[] = [];

  /** Adds `pcm` (copied) starting at `atMs`; appended to the previous run when it continues it. */
  add(pcm: Int16Array, rate: number, atMs: number): void {
    if (pcm.length === 0) return;
    const last = this.runs[this.runs.length - 1];
    if (last && last.rate === rate && Math.abs(last.at + (last.samples * 1000) / rate - atMs) < 1.5) {
      last.parts.push(pcm.slice());
      last.samples += pcm.length;
      return;
    }
    this.runs.push({ at: atMs, rate, parts: [pcm.slice()], samples: pcm.length });
  }

  /** Drops everything that would have played after `atMs` (clear / playback_stop / hangup). */
  truncateAfter(atMs: number): void {
    for (let i = this.runs.length - 1; i >= 0; i -= 1) {
      const r = this.runs[i]!;
      if (r.at >= atMs) {
        this.runs.splice(i, 1);
        continue;
      }
      const keep = Math.floor(((atMs - r.at) * r.rate) / 1000);
      if (keep < r.samples) {
        const all = flatten(r.parts, r.samples).subarray(0, keep);
        r.parts = [all];
        r.samples = keep;
      }
    }
  }

  get endMs(): number {
    return Math.max(0, ...this.runs.map((r) => r.at + (r.samples * 1000) / r.rate));
  }

  /** Mono PCM at `rate` from `t0` for `lengthMs`. */
  render(rate: number, t0: number, lengthMs: number): Int16Array {
    const out = new Int16Array(Math.ceil((lengthMs * rate) / 1000));
    for (const r of this.runs) {
      const pcm = resample(flatten(r.parts, r.samples), r.rate, rate);
      const start = Math.round(((r.at - t0) * rate) / 1000);
      for (let i = 0; i < pcm.length; i += 1) {
        const j = start + i;
        if (j < 0 || j >= out.length) continue;
        out[j] = Math.max(-32768, Math.min(32767, out[j]! + pcm[i]!));
      }
    }
    return out;
  }
}

function flatten(parts: Int16Array[], samples: number): Int16Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Int16Array(samples);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export class CallRecorder {
  readonly caller = new TrackRecorder();
  readonly agent = new TrackRecorder();

  /** Start of the recording's timeline (performance.now() ms); the simulator sets it when media starts. */
  constructor(public t0: number = performance.now()) {}

  get durationMs(): number {
    return Math.max(this.caller.endMs, this.agent.endMs) - this.t0;
  }

  /** Stereo 16-bit WAV: left caller, right agent. */
  toWav(rate = 16000, endMs = this.t0 + this.durationMs): Buffer {
    const len = Math.max(0, endMs - this.t0);
    return buildMultiChannelWav([this.caller.render(rate, this.t0, len), this.agent.render(rate, this.t0, len)], rate);
  }
}
