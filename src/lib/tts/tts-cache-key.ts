/**
 * Cache identity of a synthesized prompt. Everything that changes the audio is in the key
 * (backend, voice, speed, rate, text); whitespace differences in the text are not, so a brain
 * reply with a stray double space or trailing newline still hits the cache.
 */
import { createHash } from 'node:crypto';

export interface TtsCacheKeyInput {
  /** Backend URL (different servers or models produce different audio). */
  url: string;
  voice: string;
  speed?: number;
  sampleRate: number;
  text: string;
}

/** Collapses every whitespace run to one space and trims; the text actually sent is this. */
export function normalizeTtsText(text: string): string {
  return text.normalize('NFC').replace(/\s+/g, ' ').trim();
}

/** sha256 hex over an unambiguous encoding (JSON array: no field can bleed into the next). */
export function ttsCacheKey(input: TtsCacheKeyInput): string {
  const parts = ['v1', input.url, input.voice, input.speed ?? 1, input.sampleRate, normalizeTtsText(input.text)];
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}
