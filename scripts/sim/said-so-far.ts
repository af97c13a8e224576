/**
 * What a caller has said so far, for a Whisper stand-in that must answer partial audio truthfully:
 * the caller's line is a list of segments said one after another with pauses between them
 * ("I would like to book an appointment for" … "tomorrow morning."). The audio of a request is cut
 * into voiced runs (≥ 400 ms of silence between runs); the runs are the last segments said, in
 * order, the last one possibly unfinished (then only its first words, in proportion).
 */
export interface SaidSegment {
  text: string;
  /** Voiced ms of the segment's own audio (voicedRuns of it, summed). */
  speechMs: number;
}

const FRAME_MS = 20;

/** Voiced 20 ms frames (RMS above −40 dBFS), as runs split by ≥ 400 ms of silence: voiced ms per run. */
export function voicedRuns(pcm: Int16Array, rate: number): number[] {
  const n = (rate * FRAME_MS) / 1000;
  const runs: number[] = [];
  let gap = Infinity;
  for (let i = 0; i + n <= pcm.length; i += n) {
    let sum = 0;
    for (let j = i; j < i + n; j += 1) sum += pcm[j]! * pcm[j]!;
    if (Math.sqrt(sum / n) / 32768 > 0.01) {
      if (gap >= 400 / FRAME_MS) runs.push(0);
      runs[runs.length - 1]! += FRAME_MS;
      gap = 0;
    } else gap += 1;
  }
  return runs;
}

export const voicedMs = (pcm: Int16Array, rate: number): number => voicedRuns(pcm, rate).reduce((a, b) => a + b, 0);

/** The words of `segments[0..saying]` that `pcm` holds. */
export function saidSoFar(segments: readonly SaidSegment[], saying: number, pcm: Int16Array, rate: number): string {
  const runs = voicedRuns(pcm, rate).slice(-(saying + 1));
  return runs
    .map((ms, i) => {
      const seg = segments[saying - runs.length + 1 + i];
      if (!seg) return '';
      if (ms + 60 >= seg.speechMs * 0.8) return seg.text;
      const w = seg.text.split(' ');
      return w.slice(0, Math.floor((w.length * ms) / seg.speechMs)).join(' ');
    })
    .filter(Boolean)
    .join(' ');
}

const wordsOf = (s: string) => s.split(/\s+/).filter(Boolean);

/**
 * The answer of a Whisper that was sent only the rest of an utterance, with the text before it as
 * `prompt` (the runtime's incremental transcription): the words of `segments[0..saying]` after the
 * prompt's, as many as the audio's voiced time covers (all of them once it covers ~80 % of their
 * time). Without a prompt, saidSoFar.
 */
export function saidAfter(segments: readonly SaidSegment[], saying: number, pcm: Int16Array, rate: number, prompt?: string): string {
  if (!prompt?.trim()) return saidSoFar(segments, saying, pcm, rate);
  const words: { word: string; ms: number }[] = [];
  for (const seg of segments.slice(0, saying + 1)) {
    const w = wordsOf(seg.text);
    for (const word of w) words.push({ word, ms: seg.speechMs / Math.max(1, w.length) });
  }
  const rest = words.slice(wordsOf(prompt).length);
  const restMs = rest.reduce((a, w) => a + w.ms, 0);
  const ms = voicedMs(pcm, rate);
  if (ms === 0) return '';
  if (ms + 60 >= restMs * 0.8) return rest.map((w) => w.word).join(' ');
  let covered = 0;
  const out: string[] = [];
  for (const w of rest) {
    if (covered + w.ms / 2 > ms) break;
    covered += w.ms;
    out.push(w.word);
  }
  return out.join(' ');
}
