/**
 * Pure transcript hygiene between STT and the brain:
 * - `cleanTranscript` strips non-speech tags and collapses whitespace (for display / the brain);
 * - `normalizeTranscript` is the comparison form (tags removed, lower case, punctuation dropped);
 * - `isFillerOnly` flags transcripts that must not start a turn;
 * - `isNearDuplicate` / `FinalDeduper` suppress a final that repeats the previous one shortly after
 *   (overlapping pre-roll or a re-sent segment makes Whisper transcribe the same words twice).
 *
 * Filler = nothing left after removing non-speech tags (`[BLANK_AUDIO]`, `(silence)`, `*music*`,
 * `<|nospeech|>`, `♪`), or every word a hesitation/nasal backchannel from FILLER_WORDS, or the whole
 * text one of SILENCE_HALLUCINATIONS: phrases Whisper is known to invent on silence or line noise
 * (trained on subtitled video). Trade-off: a caller who says only "Thank you." or "you" gets no
 * answer; anything longer ("thank you very much") is speech. Lexical answers ("yes", "yeah",
 * "uh-huh", "okay", "bye") are speech, never filler.
 */

export const FILLER_WORDS: ReadonlySet<string> = new Set([
  'uh', 'uhh', 'uhm', 'um', 'umm', 'er', 'erm', 'ah', 'ahh', 'eh', 'hm', 'hmm', 'hmmm', 'mm', 'mmm', 'mhm', 'mm-hmm', 'mm-hm', 'hm-hmm',
]);

export const SILENCE_HALLUCINATIONS: ReadonlySet<string> = new Set([
  'you',
  'thank you',
  'thanks for watching',
  'thank you for watching',
  'thank you so much for watching',
  'thank you very much for watching',
  'please subscribe',
  'subscribe to my channel',
  'subtitles by the amara org community',
  'subtitles by the amaraorg community',
]);

/** `[BLANK_AUDIO]`, `(silence)`, `*music*`, `<|nospeech|>`, music notes. */
const NON_SPEECH = /\[[^\]]*\]|\([^)]*\)|\*[^*]*\*|<\|[^|>]*\|>|[♪♫]/gu;

export function cleanTranscript(text: string): string {
  return text.normalize('NFKC').replace(NON_SPEECH, ' ').replace(/\s+/g, ' ').trim();
}

/** Comparison form: tags removed, lower case, punctuation dropped (in-word ' and - kept), spaces collapsed. */
export function normalizeTranscript(text: string): string {
  return cleanTranscript(text)
    .toLowerCase()
    .replace(/[’‘]/g, "'")
    .replace(/[^\p{L}\p{N}'\-\s]+/gu, ' ')
    .replace(/(^|\s)['-]+|['-]+(?=\s|$)/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
}

export function isFillerOnly(text: string): boolean {
  const norm = normalizeTranscript(text);
  if (norm === '') return true;
  if (SILENCE_HALLUCINATIONS.has(norm)) return true;
  return norm.split(' ').every((w) => FILLER_WORDS.has(w));
}

/** Classic Levenshtein distance, two rows. */
export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let prev = new Uint32Array(b.length + 1);
  let cur = new Uint32Array(b.length + 1);
  for (let j = 0; j <= b.length; j += 1) prev[j] = j;
  for (let i = 1; i <= a.length; i += 1) {
    cur[0] = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j += 1) {
      const cost = ca === b.charCodeAt(j - 1) ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length]!;
}

/** 1 − distance / longer length, on the normalized forms (1 = identical). */
export function similarity(a: string, b: string): number {
  const na = normalizeTranscript(a);
  const nb = normalizeTranscript(b);
  const longer = Math.max(na.length, nb.length);
  if (longer === 0) return 1;
  return 1 - levenshtein(na, nb) / longer;
}

/** Below this length (normalized) only identical finals count as duplicates. */
export const SHORT_TEXT_CHARS = 24;

export function isNearDuplicate(a: string, b: string, threshold = 0.9): boolean {
  const na = normalizeTranscript(a);
  const nb = normalizeTranscript(b);
  if (na === nb) return true;
  // Short texts differ meaningfully by one character ("table 3" / "table 4", "yes" / "yep"):
  // only an exact repeat of a short final is a duplicate.
  if (Math.min(na.length, nb.length) < SHORT_TEXT_CHARS) return false;
  const longer = Math.max(na.length, nb.length);
  // The distance is at least the length difference: skip the O(n·m) work when that already fails.
  if (1 - Math.abs(na.length - nb.length) / longer < threshold) return false;
  return 1 - levenshtein(na, nb) / longer >= threshold;
}

export interface FinalDeduperOptions {
  /** A repeat within this long after the previous accepted final is dropped; default 3000 ms. */
  windowMs?: number;
  /** Similarity at or above which two finals are the same; default 0.9. */
  threshold?: number;
}

/**
 * Keeps the last accepted final and its time. `accept` returns false for a near-duplicate of it
 * within `windowMs`; a dropped repeat does not move the window, so the caller saying the same
 * thing again later is heard.
 */
export class FinalDeduper {
  private last: { text: string; atMs: number } | undefined;
  private readonly windowMs: number;
  private readonly threshold: number;

  constructor(opts: FinalDeduperOptions = {}) {
    this.windowMs = opts.windowMs ?? 3000;
    this.threshold = opts.threshold ?? 0.9;
  }

  accept(text: string, nowMs: number): boolean {
    const last = this.last;
    if (last && nowMs - last.atMs <= this.windowMs && isNearDuplicate(last.text, text, this.threshold)) return false;
    this.last = { text, atMs: nowMs };
    return true;
  }

  reset(): void {
    this.last = undefined;
  }
}
