/**
 * Tenant quick replies (`quickReplies[{match[], reply}]`, docs/design.md §Contracts): a transcript matches an entry
 * when one of its `match` phrases occurs in it as whole words, ignoring case, accents, punctuation and
 * apostrophes ("What're your HOURS?" matches "what're your hours" and "hours", not "hour").
 * Entries are tried in order; the first match wins.
 */
import type { QuickReply } from './port';

/** Lowercase, accents stripped, apostrophes removed, other non-letters/digits → single spaces. */
export function normalizeForMatch(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/['’‘`´]/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

export function matchQuickReply(transcript: string, quickReplies: readonly QuickReply[] | undefined): string | undefined {
  if (!quickReplies || quickReplies.length === 0) return undefined;
  const said = normalizeForMatch(transcript);
  if (said === '') return undefined;
  const padded = ` ${said} `;
  for (const qr of quickReplies) {
    if (typeof qr?.reply !== 'string' || qr.reply.trim() === '' || !Array.isArray(qr.match)) continue;
    for (const m of qr.match) {
      if (typeof m !== 'string') continue;
      const phrase = normalizeForMatch(m);
      if (phrase !== '' && padded.includes(` ${phrase} `)) return qr.reply.trim();
    }
  }
  return undefined;
}
