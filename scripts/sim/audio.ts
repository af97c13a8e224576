/** Small PCM helpers for the simulator: resampling whole buffers, levels, stereo WAV files. */
import { StreamingResampler } from '../../src/media/audio/resampler';

/**
 * Whole-buffer resampling with a fresh streaming resampler, fed 20 ms of zeros after the input so the
 * filter's tail comes out (the result starts the filter's ~1 ms group delay late: irrelevant here).
 */
export function resample(samples: Int16Array, from: number, to: number): Int16Array {
  if (from === to) return samples;
  const r = new StreamingResampler(from, to);
  const padded = new Int16Array(samples.length + Math.ceil(from / 50));
  padded.set(samples);
  const out = r.process(padded);
  return Int16Array.from(out.subarray(0, Math.round((samples.length * to) / from)));
}

export function concatPcm(parts: readonly Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Level of a 20 ms-ish frame in dBFS (−100 for digital silence). */
export function dbfs(pcm: Int16Array, from = 0, to = pcm.length): number {
  let sum = 0;
  for (let i = from; i < to; i += 1) sum += pcm[i]! * pcm[i]!;
  const n = Math.max(1, to - from);
  const rms = Math.sqrt(sum / n) / 32768;
  return rms > 0 ? Math.max(-100, 20 * Math.log10(rms)) : -100;
}

/** A PCM16 WAV with interleaved channels (all the same length; shorter ones are padded with silence). */
export function buildMultiChannelWav(channels: readonly Int16Array[], sampleRate: number): Buffer {
  const n = Math.max(0, ...channels.map((c) => c.length));
  const ch = channels.length;
  const dataBytes = n * ch * 2;
  const buf = Buffer.alloc(44 + dataBytes);
  buf.write('RIFF', 0, 'latin1');
  buf.writeUInt32LE(36 + dataBytes, 4);
  buf.write('WAVE', 8, 'latin1');
  buf.write('fmt ', 12, 'latin1');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(ch, 22);
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * ch * 2, 28);
  buf.writeUInt16LE(ch * 2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'latin1');
  buf.writeUInt32LE(dataBytes, 40);
  let o = 44;
  for (let i = 0; i < n; i += 1) {
    for (let c = 0; c < ch; c += 1) {
      buf.writeInt16LE(channels[c]![i] ?? 0, o);
      o += 2;
    }
  }
  return buf;
}
