/**
 * WEBRTC_ALLOWED_ORIGINS on the WebRTC routes, and CORS for the allowed origins.
 *
 * - List set: an API request (`POST`, preflight `OPTIONS`) must carry an Origin on the list, else
 *   403 `origin_not_allowed`; a missing Origin is refused too. The page and its assets are fetched
 *   by top-level navigation, which sends no Origin: they are refused only when one is present and
 *   not listed.
 * - List empty: no Origin check and no CORS headers, so browsers can call the API only from pages
 *   this runtime serves itself (same origin); non-browser clients are unaffected.
 */
import type { RequestHandler } from 'express';
import { AppError } from '../lib/errors';
import { normalizeOrigin } from '../lib/webrtc/origin';

export { normalizeOrigin };

/** Browsers cache a preflight this long (Chromium caps it at 2 h); 10 min keeps list changes quick. */
const PREFLIGHT_MAX_AGE_SEC = 600;

export class OriginPolicy {
  private readonly allowed: ReadonlySet<string>;

  constructor(list: readonly string[]) {
    this.allowed = new Set(list.map(normalizeOrigin).filter(Boolean));
  }

  get restricted(): boolean {
    return this.allowed.size > 0;
  }

  /** The allowed origins, for the page's frame-ancestors. */
  get origins(): string[] {
    return [...this.allowed];
  }

  /** undefined = allowed; otherwise why not. */
  check(origin: string | undefined, opts: { requireOrigin: boolean }): string | undefined {
    if (!this.restricted) return undefined;
    if (origin === undefined) return opts.requireOrigin ? 'the request has no Origin header' : undefined;
    return this.allowed.has(normalizeOrigin(origin)) ? undefined : `origin ${origin.slice(0, 200)} is not in WEBRTC_ALLOWED_ORIGINS`;
  }

  /**
   * Express middleware: refuses disallowed origins (403), sets the CORS headers for allowed ones,
   * and answers preflights (204).
   */
  middleware(opts: { requireOrigin: boolean; methods: string }): RequestHandler {
    return (req, res, next) => {
      const origin = typeof req.headers.origin === 'string' ? req.headers.origin : undefined;
      res.vary('Origin');
      const isPreflight = req.method === 'OPTIONS';
      const refused = this.check(origin, { requireOrigin: opts.requireOrigin || isPreflight });
      if (refused) return next(new AppError('origin_not_allowed', refused, { status: 403 }));
      if (origin && this.restricted) {
        res.setHeader('Access-Control-Allow-Origin', origin);
      }
      if (!isPreflight) return next();
      if (origin && this.restricted) {
        res.setHeader('Access-Control-Allow-Methods', opts.methods);
        res.setHeader('Access-Control-Allow-Headers', 'Content-Type');
        res.setHeader('Access-Control-Max-Age', String(PREFLIGHT_MAX_AGE_SEC));
      }
      res.status(204).end();
    };
  }
}
