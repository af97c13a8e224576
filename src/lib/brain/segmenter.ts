import { type CancelTimer, realTimers, type Timers } from '../timers';

/**
 * Cuts streamed brain tokens into speakable segments for TTS (docs/design.md §Call behaviour; the
 * BRAIN_STREAM_* variables of docs/configuration.md).
 *
 * - Sentence end: `. ! ? …` (runs like "?!" or "..." included, closing quotes/brackets kept) and
 *   `; :` — each only when followed by whitespace, so "3.5", "10:30" and "a.m.x" never cut, and a
 *   trailing "." waits for the next token. CJK `。！？` cut without whitespace. A "." after a known
 *   abbreviation ("Dr.", "e.g.", "a.m.", single initials like "J.") is not a sentence end.
 * - First segment: at the first sentence end, or once the text exceeds `firstMinChars`, cut at the
 *   last word boundary within the limit; with `firstClauseMinChars`, also at the first comma followed
 *   by whitespace once that many characters precede it ("Sure," "Of course,"): the caller hears the
 *   reply a few tokens sooner. Later segments: sentence ends or `nextMaxChars`, same way.
 *   A single word longer than the limit is cut at its end, not inside it.
 * - First audio: if nothing was emitted `firstAudioMaxMs` after the FIRST token (a real timer), the
 *   text so far is flushed up to its last word boundary (the word being streamed may be incomplete);
 *   with no complete word yet, the first whitespace that arrives flushes. 0 disables the timer.
 * - end() flushes the rest; cancel() drops everything and ignores later input. Segments are
 *   trimmed; ones without a letter or digit are never emitted (merged into the next one).
 */

export interface SegmenterOptions {
  /** BRAIN_STREAM_SEGMENT_MIN_CHARS: longest first segment without a sentence end. */
  firstMinChars: number;
  /** BRAIN_STREAM_SEGMENT_NEXT_CHARS: longest later segment without a sentence end. */
  nextMaxChars: number;
  /** BRAIN_STREAM_FIRST_AUDIO_MAX_MS: flush the first segment this long after the first token. */
  firstAudioMaxMs: number;
  /** BRAIN_STREAM_FIRST_CLAUSE_MIN_CHARS: the first segment may end at a comma after this many characters (0 = never). */
  firstClauseMinChars?: number;
  onSegment(text: string, index: number): void;
  timers?: Timers;
}

/** Lowercase, without the final dot. */
export const ABBREVIATIONS = new Set([
  'mr', 'mrs', 'ms', 'dr', 'prof', 'sr', 'jr', 'st', 'mt', 'ft', 'ave', 'blvd', 'rd', 'vs', 'etc', 'approx',
  'apt', 'dept', 'est', 'inc', 'ltd', 'co', 'corp', 'e.g', 'i.e', 'a.m', 'p.m', 'u.s', 'u.k', 'ph.d', 'tel', 'ext',
]);

const ENDERS = '.!?…;:';
const CLOSERS = `"'”’)]»`;
const CJK_ENDERS = '。！？';
const SPEAKABLE = /[\p{L}\p{N}]/u;
const isSpace = (ch: string | undefined) => ch !== undefined && /\s/.test(ch);

function isAbbreviation(text: string, dot: number): boolean {
  let start = dot;
  while (start > 0 && /[\p{L}.]/u.test(text[start - 1]!)) start -= 1;
  const word = text.slice(start, dot).replace(/^\.+/, '');
  if (word === '') return false;
  if (word.length === 1 && /\p{Lu}/u.test(word)) return true;
  return ABBREVIATIONS.has(word.toLowerCase());
}

/** Index just past the first confirmed sentence end in `text` with speakable text before it, or -1. */
export function findSentenceEnd(text: string): number {
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i]!;
    let end: number;
    if (CJK_ENDERS.includes(ch)) {
      end = i + 1;
      while (end < text.length && (CJK_ENDERS.includes(text[end]!) || CLOSERS.includes(text[end]!))) end += 1;
    } else if (ENDERS.includes(ch)) {
      end = i + 1;
      while (end < text.length && ('.!?…'.includes(text[end]!) || CLOSERS.includes(text[end]!))) end += 1;
      if (!isSpace(text[end])) {
        i = end - 1;
        continue;
      }
      if (ch === '.' && end === i + 1 && isAbbreviation(text, i)) continue;
    } else continue;
    if (SPEAKABLE.test(text.slice(0, end))) return end;
    i = end - 1;
  }
  return -1;
}

/** Cut position for a text longer than `limit`: the last whitespace ≤ limit, else the end of the first word. */
function wordCut(text: string, limit: number): number {
  for (let i = Math.min(limit, text.length - 1); i > 0; i -= 1) if (isSpace(text[i])) return i;
  const m = /\s/.exec(text.slice(limit));
  return m ? limit + m.index : -1;
}

export class Segmenter {
  private buf = '';
  private index = 0;
  private started = false;
  private closed = false;
  private flushAtBoundary = false;
  private cancelFirstAudioTimer: CancelTimer | undefined;
  private readonly timers: Timers;

  constructor(private readonly opts: SegmenterOptions) {
    if (!(opts.firstMinChars > 0) || !(opts.nextMaxChars > 0)) throw new Error('segment limits must be > 0');
    this.timers = opts.timers ?? realTimers;
  }

  /** Segments emitted so far. */
  get emitted(): number {
    return this.index;
  }

  push(token: string): void {
    if (this.closed || token === '') return;
    this.buf += token;
    if (!this.started) {
      this.started = true;
      if (this.opts.firstAudioMaxMs > 0) this.cancelFirstAudioTimer = this.timers.after(this.opts.firstAudioMaxMs, () => this.onFirstAudioTimer());
    }
    this.drain();
  }

  /** End of the reply: emits everything left. */
  end(): void {
    if (this.closed) return;
    this.drain();
    this.emit(this.buf.length);
    this.close();
  }

  /** Barge-in / hangup: drops the buffer, no more segments. */
  cancel(): void {
    this.buf = '';
    this.close();
  }

  private close(): void {
    this.closed = true;
    this.stopTimer();
  }

  private stopTimer(): void {
    this.cancelFirstAudioTimer?.();
    this.cancelFirstAudioTimer = undefined;
  }

  private onFirstAudioTimer(): void {
    this.cancelFirstAudioTimer = undefined;
    if (this.closed || this.index > 0) return;
    this.flushAtBoundary = true;
    this.drain();
  }

  private drain(): void {
    for (;;) {
      const limit = this.index === 0 ? this.opts.firstMinChars : this.opts.nextMaxChars;
      const sentence = findSentenceEnd(this.buf);
      const clause = this.index === 0 ? this.firstClause(sentence) : -1;
      let cut = -1;
      if (clause > 0 && clause <= limit) cut = clause;
      else if (sentence > 0 && this.buf.slice(0, sentence).trim().length <= limit) cut = sentence;
      else if (this.buf.trimStart().length > limit) cut = wordCut(this.buf, this.buf.length - this.buf.trimStart().length + limit);
      else if (this.flushAtBoundary && this.index === 0) cut = this.lastBoundary();
      if (cut <= 0 || !this.emit(cut)) return;
    }
  }

  /** Just past the first comma (followed by whitespace, before any sentence end) with enough text before it, or -1. */
  private firstClause(sentenceEnd: number): number {
    const min = this.opts.firstClauseMinChars ?? 0;
    if (min <= 0) return -1;
    const re = /,(?=\s)/g;
    for (let m = re.exec(this.buf); m; m = re.exec(this.buf)) {
      if (sentenceEnd > 0 && m.index >= sentenceEnd) return -1;
      const before = this.buf.slice(0, m.index).trim();
      if (before.length >= min && SPEAKABLE.test(before) && !/\d$/.test(before)) return m.index + 1;
    }
    return -1;
  }

  /** End of the last complete word with speakable text before it, or -1. */
  private lastBoundary(): number {
    const m = /\s+\S*$/.exec(this.buf);
    return m && SPEAKABLE.test(this.buf.slice(0, m.index)) ? m.index : -1;
  }

  /** Emits buf[0, cut) when speakable; returns whether something was emitted. */
  private emit(cut: number): boolean {
    const text = this.buf.slice(0, cut).trim();
    if (!SPEAKABLE.test(text)) return false;
    this.buf = this.buf.slice(cut);
    const index = this.index;
    this.index += 1;
    if (index === 0) {
      this.flushAtBoundary = false;
      this.stopTimer();
    }
    this.opts.onSegment(text, index);
    return true;
  }
}
