import type { RequestHandler } from 'express';
import { safeEqual } from '../lib/secure-compare';

/**
 * HTTP Basic auth for admin surfaces. With no credentials configured it refuses everything:
 * an admin UI must never be open by default.
 */
export function basicAuth(creds: { user?: string; password?: string }, realm = 'veralux-admin'): RequestHandler {
  return (req, res, next) => {
    if (!creds.user || !creds.password) {
      res.status(401).set('WWW-Authenticate', `Basic realm="${realm}"`).json({
        error: 'admin_disabled',
        message: 'admin endpoints are disabled: set ADMIN_USER and ADMIN_PASSWORD',
      });
      return;
    }
    const header = req.headers.authorization ?? '';
    const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header);
    const decoded = m ? Buffer.from(m[1]!, 'base64').toString('utf8') : '';
    const sep = decoded.indexOf(':');
    const ok =
      sep > 0 && safeEqual(decoded.slice(0, sep), creds.user) && safeEqual(decoded.slice(sep + 1), creds.password);
    if (!ok) {
      res.status(401).set('WWW-Authenticate', `Basic realm="${realm}"`).json({ error: 'unauthorized', message: 'valid admin credentials required' });
      return;
    }
    next();
  };
}
