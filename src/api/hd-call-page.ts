/**
 * The /hd-call page: one HTML file, its script and stylesheet (src/api/public, copied to dist by
 * scripts/copy-assets.js), served by this runtime itself — no CDN, no third-party script, and a
 * Content-Security-Policy that allows nothing else. Read once, asynchronously, then from memory.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { RequestHandler } from 'express';

const PUBLIC_DIR = path.join(__dirname, 'public');

export const HD_CALL_ASSETS = {
  '/hd-call': { file: 'hd-call.html', type: 'text/html; charset=utf-8' },
  '/hd-call/hd-call.js': { file: 'hd-call.js', type: 'text/javascript; charset=utf-8' },
  '/hd-call/hd-call.css': { file: 'hd-call.css', type: 'text/css; charset=utf-8' },
} as const;

export type HdCallAssetPath = keyof typeof HD_CALL_ASSETS;

/**
 * Only our own script and stylesheet; WebRTC itself is not governed by CSP. frame-ancestors lets
 * the allowed origins embed the page (with `allow="microphone"` on their iframe).
 */
function contentSecurityPolicy(frameAncestors: readonly string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "connect-src 'self'",
    "img-src 'self' data:",
    "media-src 'self' blob:",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors 'self'${frameAncestors.map((o) => ` ${o}`).join('')}`,
  ].join('; ');
}

export function hdCallAssets(opts: { frameAncestors: readonly string[]; dir?: string }): (asset: HdCallAssetPath) => RequestHandler {
  const dir = opts.dir ?? PUBLIC_DIR;
  const cache = new Map<string, Promise<Buffer>>();
  const csp = contentSecurityPolicy(opts.frameAncestors);
  const permissions = `microphone=(self${opts.frameAncestors.map((o) => ` "${o}"`).join('')})`;
  const load = (file: string) => {
    let p = cache.get(file);
    if (!p) {
      p = readFile(path.join(dir, file));
      p.catch(() => cache.delete(file)); // a missing file is retried on the next request
      cache.set(file, p);
    }
    return p;
  };
  return (asset) => {
    const { file, type } = HD_CALL_ASSETS[asset];
    return async (_req, res) => {
      const body = await load(file);
      res.setHeader('Content-Type', type);
      res.setHeader('Cache-Control', 'no-cache');
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('Referrer-Policy', 'no-referrer');
      if (asset === '/hd-call') {
        res.setHeader('Content-Security-Policy', csp);
        res.setHeader('Permissions-Policy', permissions);
      }
      res.send(body);
    };
  };
}
