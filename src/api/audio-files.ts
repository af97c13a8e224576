/**
 * Serves synthesized audio under the PATH of AUDIO_PUBLIC_BASE_URL (Telnyx fetches `audio_url`
 * from here). Unauthenticated by necessity, so safety comes from the names: only flat names
 * matching AUDIO_FILE_NAME are served (no dots, slashes or encodings can reach outside the
 * storage dir), and the files themselves carry random, unguessable names (lib/tts/synthesize.ts).
 * No listing: the base path and anything else under it is a JSON 404.
 */
import { lstat, realpath } from 'node:fs/promises';
import path from 'node:path';
import { Router, type Request, type RequestHandler, type Response } from 'express';
import type { ErrorBody } from './error-handler';
import { mountLabel } from './metrics-route';

export const AUDIO_FILE_NAME = /^[A-Za-z0-9_-]{8,64}\.(wav|mp3)$/;

const CONTENT_TYPES: Record<string, string> = { '.wav': 'audio/wav', '.mp3': 'audio/mpeg' };

/** Short and private: files are per-call and deleted by the cleanup; shared caches must not keep them. */
const CACHE_CONTROL = 'private, max-age=300';

/** Mount path from the public base URL: `http://host/audio/` → `/audio`, `http://host` → `/`. */
export function audioMountPath(publicBaseUrl: string): string {
  const p = new URL(publicBaseUrl).pathname.replace(/\/+$/, '');
  return p === '' ? '/' : p;
}

/** Re-exported so the route and the URLs handed to Telnyx come from one definition. */
export { audioUrlFor } from '../lib/audio-url';

function notFound(res: Response, message = 'audio file not found'): void {
  res.status(404).json({ error: 'not_found', message } satisfies ErrorBody);
}

/** Errors from sendFile that mean "no such servable file" rather than a server fault. */
const MISSING = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'ENAMETOOLONG']);

/**
 * True when `name` in `root` is a regular file that really lives in the storage dir: a symlink (to
 * /etc/hostname, or to another dir) is never served, whatever wrote it there. The runtime itself only
 * writes regular files (lib/tts/synthesize.ts), so this refuses nothing it made.
 */
async function isServable(root: string, name: string): Promise<boolean> {
  try {
    const full = path.join(root, name);
    const st = await lstat(full);
    if (!st.isFile()) return false;
    const [realFile, realRoot] = await Promise.all([realpath(full), realpath(root)]);
    return path.dirname(realFile) === realRoot;
  } catch {
    return false;
  }
}

function serveFile(storageDir: string): RequestHandler {
  const root = path.resolve(storageDir);
  return async (req: Request, res: Response, next) => {
    const name = String(req.params.name ?? '');
    if (!AUDIO_FILE_NAME.test(name)) return notFound(res);
    if (!(await isServable(root, name))) return notFound(res);
    res.set({
      'Content-Type': CONTENT_TYPES[path.extname(name)]!,
      'Cache-Control': CACHE_CONTROL,
      'X-Content-Type-Options': 'nosniff',
    });
    res.sendFile(name, { root, dotfiles: 'deny', cacheControl: false, acceptRanges: true, etag: true, lastModified: true }, (err) => {
      if (!err) return;
      const e = err as NodeJS.ErrnoException & { status?: number; statusCode?: number };
      if (res.headersSent) {
        // Client went away mid-transfer (barge-in, Telnyx stopped playback): nothing to answer.
        if (e.code !== 'ECONNABORTED' && e.code !== 'ECONNRESET') req.log?.warn({ err: e.message }, 'audio transfer failed');
        return;
      }
      res.removeHeader('Content-Type');
      res.removeHeader('Cache-Control');
      if (MISSING.has(e.code ?? '') || e.status === 404 || e.statusCode === 404) return notFound(res);
      // send attaches headers the answer needs (416 carries `Content-Range: bytes */<size>`).
      const extra = (err as { headers?: Record<string, string> }).headers;
      if (extra) res.set(extra);
      next(err);
    });
  };
}

export function audioFilesRouter(opts: { storageDir: string; publicBaseUrl: string }): Router {
  const mount = audioMountPath(opts.publicBaseUrl);
  const files = Router({ caseSensitive: true, strict: true });
  files.get('/:name', serveFile(opts.storageDir)); // GET routes answer HEAD too
  const router = Router();
  if (mount === '/') {
    // Sharing the root with every other route: claim only audio-looking names, leave the rest.
    router.get('/:name', (req, res, next) => (AUDIO_FILE_NAME.test(String(req.params.name)) ? files(req, res, next) : next()));
    return router;
  }
  files.use((_req, res) => notFound(res));
  router.use(mount, mountLabel(mount), files);
  return router;
}
