import { createHmac } from 'node:crypto';
import { safeEqual } from '../secure-compare';

/**
 * Per-call media stream token: HMAC-SHA256(MEDIA_STREAM_TOKEN, callControlId), base64url. Put in the
 * `stream_url` we hand Telnyx, so a leaked URL opens only that one call's stream and the shared
 * secret itself never travels.
 */
export function mediaTokenFor(secret: string, callControlId: string): string {
  return createHmac('sha256', secret).update(callControlId).digest('base64url');
}

/** Accepts the call's own token, or the shared MEDIA_STREAM_TOKEN (smoke scripts); constant time. */
export function verifyMediaToken(secret: string, callControlId: string, token: string | undefined): boolean {
  if (!token) return false;
  const perCall = safeEqual(token, mediaTokenFor(secret, callControlId));
  const shared = safeEqual(token, secret);
  return perCall || shared;
}
