/**
 * Per-call conversation history sent to the brain (`history:[{role, content, timestamp}]`, docs/design.md
 * §Contracts). Bounded by entry count AND total characters; the oldest entries go first. The assistant side
 * records what the caller actually HEARD (after a barge-in: heardPrefix), not what the brain wrote.
 */
import type { BrainHistoryEntry } from './port';

export interface CallHistoryOptions {
  /** Most entries kept (user and assistant entries each count one); default 20. */
  maxTurns?: number;
  /** Most characters of content kept in total; default 4000. A longer single entry is shortened. */
  maxChars?: number;
  /** Clock for timestamps (epoch ms); default Date.now. */
  now?: () => number;
}

/** `text` cut to at most `max` chars at a word boundary, with "…" appended when shortened. */
function shorten(text: string, max: number): string {
  if (text.length <= max) return text;
  const head = text.slice(0, Math.max(0, max - 1));
  const atWord = head.replace(/\s+\S*$/, '');
  return `${(atWord || head).trimEnd()}…`;
}

export class CallHistory {
  private readonly items: BrainHistoryEntry[] = [];
  private chars = 0;
  private readonly maxTurns: number;
  private readonly maxChars: number;
  private readonly now: () => number;

  constructor(opts: CallHistoryOptions = {}) {
    this.maxTurns = opts.maxTurns ?? 20;
    this.maxChars = opts.maxChars ?? 4000;
    this.now = opts.now ?? Date.now;
    if (!(this.maxTurns >= 1) || !(this.maxChars >= 1)) throw new Error('maxTurns and maxChars must be >= 1');
  }

  addUser(text: string): void {
    this.add('user', text);
  }

  /** What the caller heard of the reply (pass the heardPrefix after a barge-in). */
  addAssistant(text: string): void {
    this.add('assistant', text);
  }

  /** A runtime note for the brain ("transfer to X refused: not an allowed destination"). */
  addSystem(text: string): void {
    this.add('system', text);
  }

  /** Oldest first; copies. */
  entries(): BrainHistoryEntry[] {
    return this.items.map((e) => ({ ...e }));
  }

  get size(): number {
    return this.items.length;
  }

  get totalChars(): number {
    return this.chars;
  }

  clear(): void {
    this.items.length = 0;
    this.chars = 0;
  }

  private add(role: BrainHistoryEntry['role'], text: string): void {
    const content = shorten(text.trim(), this.maxChars);
    if (content === '') return;
    this.items.push({ role, content, timestamp: this.now() });
    this.chars += content.length;
    while (this.items.length > this.maxTurns || this.chars > this.maxChars) {
      this.chars -= this.items.shift()!.content.length;
    }
  }
}

export interface PlayedSegment {
  text: string;
  played: 'full' | 'partial' | 'none';
  /** For 'partial': share of the segment's audio played, 0..1 (missing → 0). */
  fractionPlayed?: number;
}

/** The first `fraction` of `text`, backed off to a word boundary (only complete words count as heard). */
export function wordPrefix(text: string, fraction: number): string {
  const n = Math.floor(text.length * Math.min(1, Math.max(0, fraction)));
  if (n >= text.length) return text;
  if (n <= 0) return '';
  if (/\s/.test(text[n]!)) return text.slice(0, n).trimEnd();
  const ws = text.slice(0, n).search(/\s\S*$/);
  return ws < 0 ? '' : text.slice(0, ws).trimEnd();
}

/**
 * What the caller actually heard of `fullText`, given its segments in play order: every 'full'
 * segment, then the word-boundary prefix of the first 'partial' one; nothing after the first
 * segment not played in full. When the segments are found in order in `fullText` the result is
 * its prefix (original spacing kept); otherwise the heard parts joined with spaces.
 */
export function heardPrefix(fullText: string, segments: readonly PlayedSegment[]): string {
  const parts: string[] = [];
  let cursor = 0;
  let end = 0;
  let mapped = true;
  for (const seg of segments) {
    const text = seg.text.trim();
    if (text === '') continue;
    const fraction = seg.played === 'full' ? 1 : seg.played === 'partial' ? (seg.fractionPlayed ?? 0) : 0;
    const heard = wordPrefix(text, fraction);
    if (mapped) {
      const at = fullText.indexOf(text, cursor);
      if (at < 0) mapped = false;
      else {
        cursor = at + text.length;
        if (heard !== '') end = at + heard.length;
      }
    }
    if (heard !== '') parts.push(heard);
    if (heard.length < text.length) break;
  }
  return mapped ? fullText.slice(0, end).trim() : parts.join(' ');
}
