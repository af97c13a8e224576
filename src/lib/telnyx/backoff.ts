/**
 * Retry delays for Telnyx commands (and anything else calling a rate-limited API).
 *
 * Exponential backoff with FULL jitter (uniform in [0, cap]) so many calls retrying after the same
 * outage spread out instead of hitting Telnyx in waves; a server-sent Retry-After is a floor, never cut
 * short by jitter or by maxMs (retrying earlier than asked only earns another 429).
 */

/**
 * @param attempt 1 for the first retry, 2 for the second, ... (values < 1 are treated as 1)
 * @param baseMs cap of the first retry's delay; doubles per attempt
 * @param maxMs cap of the exponential part
 * @param retryAfterMs server-requested minimum delay (Retry-After), if any
 */
export function computeBackoffMs(
  attempt: number,
  baseMs: number,
  maxMs: number,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const n = Number.isFinite(attempt) ? Math.max(1, Math.floor(attempt)) : 1;
  // 2 ** 1100 is Infinity, which Math.min turns back into maxMs: no overflow guard needed.
  const cap = Math.max(0, Math.min(maxMs, baseMs * 2 ** (n - 1)));
  const r = Math.min(1, Math.max(0, random()));
  const jittered = Math.round(r * cap);
  const floor = retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs > 0 ? Math.ceil(retryAfterMs) : 0;
  return Math.max(jittered, floor);
}

/**
 * Parses a Retry-After header: delta-seconds ("120", decimals tolerated) or an HTTP-date.
 * Returns milliseconds from `nowMs` (0 for a date in the past), or undefined when absent/unparseable.
 */
export function parseRetryAfterMs(value: string | string[] | undefined | null, nowMs: number = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  const s = raw?.trim();
  if (!s) return undefined;
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  // Only date-looking strings: Date.parse also accepts things like "1" or "-5".
  if (!/[A-Za-z]/.test(s)) return undefined;
  const at = Date.parse(s);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
