import { readdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';

export interface CleanupResult {
  scanned: number;
  deleted: number;
  errors: number;
}

/**
 * Deletes regular files directly under `dir` whose mtime is older than `maxAgeMs`.
 * Never follows symlinks or descends into directories (nothing outside the storage dir can be
 * touched); a file vanishing mid-scan (another instance cleaning) is not an error.
 */
export async function cleanupAudioDir(dir: string, maxAgeMs: number, now: number = Date.now()): Promise<CleanupResult> {
  const result: CleanupResult = { scanned: 0, deleted: 0, errors: 0 };
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return result;
    throw err;
  }
  const cutoff = now - maxAgeMs;
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    result.scanned += 1;
    const file = path.join(dir, entry.name);
    try {
      const st = await stat(file);
      if (st.mtimeMs < cutoff) {
        await unlink(file);
        result.deleted += 1;
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') result.errors += 1;
    }
  }
  return result;
}
