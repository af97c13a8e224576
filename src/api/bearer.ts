import type { IncomingHttpHeaders } from 'node:http';
import { safeEqual } from '../lib/secure-compare';

/** `Authorization: Bearer <token>` with this token (constant time); false when no token is configured. */
export function hasBearer(headers: IncomingHttpHeaders, token: string | undefined): boolean {
  if (!token) return false;
  const header = headers.authorization ?? '';
  return header.startsWith('Bearer ') && safeEqual(header.slice(7), token);
}
