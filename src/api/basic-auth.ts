import type { RequestHandler } from 'express';
import type { AuthThrottle, ThrottleVerdict } from '../lib/auth-throttle/auth-throttle';
import { AppError } from '../lib/errors';
import { safeEqual } from '../lib/secure-compare';

export interface BasicAuthOptions {
  user?: string;
  password?: string;
  /** Failed attempts per client IP (req.ip: the socket peer, or per TRUST_PROXY the forwarded one). */
  throttle: AuthThrottle;
  realm?: string;
}

/**
 * HTTP Basic auth for admin surfaces. With no credentials configured it refuses everything:
 * an admin UI must never be open by default. A client with too many recent failures gets 429 with
 * Retry-After before its credentials are checked; both parts compare in constant time.
 */
export function basicAuth(opts: BasicAuthOptions): RequestHandler {
  const realm = opts.realm ?? 'veralux-admin';
  return async (req, res, next) => {
    if (!opts.user || !opts.password) {
      res.status(401).set('WWW-Authenticate', `Basic realm="${realm}"`).json({
        error: 'admin_disabled',
        message: 'admin endpoints are disabled: set ADMIN_USER and ADMIN_PASSWORD',
      });
      return;
    }
    const client = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    const tooMany = (retryAfterSec: number) =>
      res
        .status(429)
        .set('Retry-After', String(retryAfterSec))
        .json({ error: 'too_many_attempts', message: `too many failed admin logins from this address; retry in ${retryAfterSec} s` });
    let verdict: ThrottleVerdict;
    try {
      verdict = await opts.throttle.check(client);
    } catch (err) {
      throw new AppError('admin_unavailable', 'admin login is unavailable while Redis is unreachable', { status: 503, retryable: true, cause: err });
    }
    if (verdict.blocked) {
      tooMany(verdict.retryAfterSec);
      return;
    }
    const header = req.headers.authorization;
    const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header ?? '');
    const decoded = m ? Buffer.from(m[1]!, 'base64').toString('utf8') : '';
    const sep = decoded.indexOf(':');
    // Both compared every time (no short-circuit), so the time taken does not tell which part was wrong.
    const userOk = safeEqual(sep > 0 ? decoded.slice(0, sep) : '', opts.user);
    const passwordOk = safeEqual(sep > 0 ? decoded.slice(sep + 1) : '', opts.password);
    if (userOk && passwordOk && sep > 0) {
      next();
      return;
    }
    // A browser's first request carries no credentials (it asks after the 401): not a guess.
    if (header !== undefined) await opts.throttle.recordFailure(client).catch(() => undefined);
    res.status(401).set('WWW-Authenticate', `Basic realm="${realm}"`).json({ error: 'unauthorized', message: 'valid admin credentials required' });
  };
}
