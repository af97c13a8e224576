/**
 * End of turn from what was said, not only from silence. Given the transcript of the caller's speech
 * so far (taken as soon as the VAD heard the speech stop), decides how much silence ends the turn:
 *
 * - complete: final punctuation, a question, or a short answer ("yes please", "no thanks"), and not
 *   ending on a conjunction, preposition, article or filler → `completeMs` (a short beat);
 * - incomplete: ends on such a word ("… an appointment for"), or on a comma / ellipsis →
 *   `incompleteMs` (the caller is still thinking);
 * - unknown: no transcript, no final punctuation, or a language without word lists → `silenceMs`
 *   (STT_SILENCE_MS: the silence-only rule as before).
 *
 * `silenceMs` stays the operator's ceiling for everything the rule cannot vouch for: a complete
 * sentence never waits longer than it, an unjudged one waits exactly it; only an incomplete sentence
 * may wait past it, up to `incompleteMs`. Pure: no clock, no I/O.
 */

export interface EndOfTurnSettings {
  /** Silence that ends a complete sentence (TURN_COMPLETE_SILENCE_MS). */
  completeMs: number;
  /** Silence an incomplete sentence may wait for more words (TURN_INCOMPLETE_SILENCE_MS). */
  incompleteMs: number;
  /** STT_SILENCE_MS: the silence-only rule, and the ceiling for complete sentences. */
  silenceMs: number;
  /** A tenant's own words, added to the language's lists (and the only lists of a language without built-in ones). */
  words?: TenantTurnWords;
}

export interface TenantTurnWords {
  trailingWords?: readonly string[];
  shortAnswers?: readonly string[];
}

export type TurnShape = 'complete' | 'incomplete' | 'unknown';

export interface TurnVerdict {
  shape: TurnShape;
  /** Silence (from the end of speech) after which the turn ends. */
  endAfterMs: number;
}

interface WordLists {
  /** A sentence ending on one of these is not finished ("… for", "… and", "… um"). */
  trailing: ReadonlySet<string>;
  /** Whole answers that are complete without punctuation ("yes please"). */
  shortAnswers: ReadonlySet<string>;
}

const ENGLISH: WordLists = {
  // Only words that practically never end a finished sentence ("in", "on", "that", "so" often do:
  // "count me in", "hold on", "I want that", "I think so").
  trailing: new Set([
    // conjunctions
    'and', 'or', 'but', 'because', 'cause', 'if', 'although', 'though', 'unless', 'than', 'whether', 'whose',
    // prepositions
    'for', 'to', 'of', 'at', 'by', 'with', 'from', 'into', 'onto', 'towards', 'toward', 'per', 'via', 'between', 'during', 'without',
    // articles, determiners, possessives, a subject with nothing after it
    'a', 'an', 'the', 'my', 'your', 'our', 'their', 'every', 'im', 'i',
    // fillers
    'um', 'uh', 'er', 'erm', 'uhm', 'umm', 'uhh',
  ]),
  shortAnswers: new Set([
    'yes', 'no', 'yeah', 'yep', 'nope', 'sure', 'okay', 'ok', 'right', 'correct', 'exactly', 'fine', 'great', 'perfect', 'thanks', 'thank you', 'yes please', 'no thanks', 'no thank you',
    'yes thank you', 'thats all', 'that is all', 'thats it', 'goodbye', 'bye', 'hello', 'hi', 'of course', 'not really', 'i do', 'i dont', 'that works', 'sounds good',
    // backchannels: complete as they are
    'uh huh', 'mm hmm', 'mhm', 'mm', 'hmm', 'i see', 'got it', 'alright', 'all right',
  ]),
};

const LISTS: Readonly<Record<string, WordLists>> = { en: ENGLISH };

/** Lowercase words without apostrophes or punctuation, as transcripts are compared. */
function normalizeWords(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[’']/g, '')
    .replace(/[^\p{L}\p{N}\s]/gu, ' ')
    .split(/\s+/)
    .filter(Boolean);
}

/** Merged lists per tenant word set and language (computed once, not per transcript). */
const merged = new WeakMap<TenantTurnWords, Map<string, WordLists>>();

/** The word lists for a language tag ("en", "en-US"; unset means English), with a tenant's words added. */
function listsFor(language: string | undefined, words: TenantTurnWords | undefined): WordLists | undefined {
  const base = (language ?? 'en').trim().toLowerCase().split(/[-_]/)[0] || 'en';
  const builtIn = LISTS[base];
  if (!words || (!words.trailingWords?.length && !words.shortAnswers?.length)) return builtIn;
  let byLanguage = merged.get(words);
  if (!byLanguage) merged.set(words, (byLanguage = new Map()));
  let lists = byLanguage.get(base);
  if (!lists) {
    lists = {
      trailing: new Set([...(builtIn?.trailing ?? []), ...(words.trailingWords ?? []).map((w) => normalizeWords(w).join(' ')).filter(Boolean)]),
      shortAnswers: new Set([...(builtIn?.shortAnswers ?? []), ...(words.shortAnswers ?? []).map((w) => normalizeWords(w).join(' ')).filter(Boolean)]),
    };
    byLanguage.set(base, lists);
  }
  return lists;
}

/** Languages with built-in word lists (others fall back to silence only, unless the tenant gives words). */
export const END_OF_TURN_LANGUAGES: readonly string[] = Object.keys(LISTS);

export function endOfTurn(transcript: string, language: string | undefined, s: EndOfTurnSettings): TurnVerdict {
  const unknown: TurnVerdict = { shape: 'unknown', endAfterMs: s.silenceMs };
  const lists = listsFor(language, s.words);
  const text = transcript.trim();
  if (!lists || !text) return unknown;
  const words = normalizeWords(text);
  if (words.length === 0) return unknown;
  const complete: TurnVerdict = { shape: 'complete', endAfterMs: Math.min(s.completeMs, s.silenceMs) };
  const incomplete: TurnVerdict = { shape: 'incomplete', endAfterMs: Math.max(s.silenceMs, s.incompleteMs) };
  const last = words[words.length - 1]!;
  // A question is complete whatever it ends on ("Who am I speaking with?").
  if (/\?["')\]]*$/.test(text)) return complete;
  if (lists.trailing.has(last)) return incomplete;
  // "Hi, …", "Yes, …": a comma, dash or ellipsis says more is coming, even after a short answer.
  if (/(,|…|\.\.\.|-|—|:|;)$/.test(text)) return incomplete;
  if (lists.shortAnswers.has(words.join(' '))) return complete;
  if (/[.!]["')\]]*$/.test(text)) return complete;
  return unknown;
}
