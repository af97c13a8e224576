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

/**
 * Accepts only the call's own token, in constant time. The shared MEDIA_STREAM_TOKEN itself never
 * opens a stream: it would open every call's. Tools derive the per-call token (scripts/smoke_media_ws.js).
 */
export function verifyMediaToken(secret: string, callControlId: string, token: string | undefined): boolean {
  if (!token) return false;
  return safeEqual(token, mediaTokenFor(secret, callControlId));
}
