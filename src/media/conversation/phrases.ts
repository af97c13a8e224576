/** Fixed things the agent says (synthesized once per voice and cached). */
export const PHRASES = {
  defaultGreeting: 'Hello! How can I help you today?',
  stillThere: 'Are you still there?',
  deadAirGoodbye: "I haven't heard from you, so I'll end the call now. Goodbye.",
  apology: "I'm sorry, I'm having trouble right now. Could you say that again?",
  transferFailed: "I'm sorry, I couldn't transfer your call. Is there anything else I can help with?",
  /** The brain asked for a destination the tenant config does not allow. */
  transferRefused: "I'm sorry, I can't transfer you to that number.",
} as const;

/** Backchannels: short acknowledgements that must not take the turn from the agent. */
const BACKCHANNELS = new Set([
  'mm', 'mhm', 'mm-hm', 'mm-hmm', 'mmhmm', 'uh-huh', 'uh huh', 'yeah', 'yes', 'yep', 'ok', 'okay', 'right', 'sure', 'i see', 'got it', 'alright', 'all right', 'uh', 'um', 'hmm',
]);

/** Lowercase, apostrophes dropped ("d'accord" → "daccord"), other punctuation as spaces. */
function normalize(text: string): string {
  return text
    .toLowerCase()
    .replace(/[’']/g, '')
    .replace(/[^\p{L}\p{N}\s-]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * "mm-hm", "yeah", "okay right" — at most 2 words, every word a backchannel (the English list, plus a
 * tenant's own words from `turnTaking.backchannels`, e.g. "ja", "genau"). Letters of every script count
 * as words: "Подождите" or "待って" is speech, not a backchannel. Only a transcript with no letters or
 * digits at all ("…", "♪") counts as one (nothing was said).
 */
export function isBackchannel(text: string, extra?: readonly string[]): boolean {
  const t = normalize(text);
  if (!t || !/[\p{L}\p{N}]/u.test(t)) return true;
  const known = (w: string) => BACKCHANNELS.has(w) || (extra?.some((x) => normalize(x) === w) ?? false);
  if (known(t)) return true;
  const words = t.split(' ');
  return words.length <= 2 && words.every(known);
}
