/**
 * Speech synthesis as plain functions, used by the tts queue's prompt jobs and in-process by stream
 * mode and WebRTC: text → a WAV file under the audio storage dir that Telnyx can fetch (url
 * playback) or we can stream. Prompts repeat a lot (greetings, apologies, quick replies), so
 * results are cached in Redis by ttsCacheKey.
 *
 * File names are random (`<22 base64url chars>.wav`), never derived from the text or its hash:
 * the public audio route serves any existing name, so a guessable name would let anyone confirm
 * what a caller was told. Redis maps hash → random name.
 *
 * Lifetimes: the hourly cleanup deletes files by mtime, so a cache hit touches the file and then
 * re-arms the key's TTL. The caller passes a cacheTtlSec shorter than the cleanup age, so a key
 * never outlives its file by design; if it does anyway (file removed by hand), the hit is
 * discarded and the text re-synthesized.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, unlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Redis } from 'ioredis';
import type { TextToSpeech } from './port';
import { normalizeTtsText, ttsCacheKey } from './tts-cache-key';
import type { Logger } from '../logger';
import { errorMessage } from '../errors';
import { buildWav, parseWav } from '../audio/wav';

export interface SynthesizeDeps {
  /** The synthesizer (the composition root picks Kokoro; tests may pass the in-memory fake). */
  tts: TextToSpeech;
  storageDir: string;
  redis: Redis;
  cachePrefix: string;
  /** Must be shorter than the audio cleanup age (AUDIO_CLEANUP_HOURS); <= 0 disables caching. */
  cacheTtlSec: number;
  now?: () => number;
  logger?: Logger;
}

export interface SynthesizeToFileRequest {
  url: string;
  text: string;
  voice: string;
  speed?: number;
  sampleRate: number;
  signal?: AbortSignal;
}

export interface SynthesizedFile {
  fileName: string;
  durationMs: number;
  sampleRate: number;
  cached: boolean;
}

interface CacheEntry {
  fileName: string;
  durationMs: number;
  sampleRate: number;
}

/** Exactly the names newFileName() makes; anything else read back from Redis is ignored. */
const GENERATED_NAME = /^[A-Za-z0-9_-]{22}\.wav$/;

const newFileName = () => `${randomBytes(16).toString('base64url')}.wav`;

export async function synthesizeToFile(deps: SynthesizeDeps, req: SynthesizeToFileRequest): Promise<SynthesizedFile> {
  const now = deps.now ?? Date.now;
  const text = normalizeTtsText(req.text);
  const key = `${deps.cachePrefix}:${ttsCacheKey({ ...req, text })}`;
  const caching = deps.cacheTtlSec > 0;

  if (caching) {
    const hit = await readCache(deps, key);
    if (hit && (await touch(path.join(deps.storageDir, hit.fileName), now()))) {
      await bestEffort(deps, 'tts cache expire', () => deps.redis.expire(key, deps.cacheTtlSec));
      return { ...hit, cached: true };
    }
  }

  const audio = await deps.tts.synthesize({
    url: req.url,
    text,
    voice: req.voice,
    speed: req.speed,
    sampleRate: req.sampleRate,
    signal: req.signal,
  });
  const fileName = newFileName();
  await writeAtomically(deps.storageDir, fileName, buildWav(audio.samples, audio.sampleRate));
  const entry: CacheEntry = {
    fileName,
    durationMs: Math.round((audio.samples.length / audio.sampleRate) * 1000),
    sampleRate: audio.sampleRate,
  };
  if (caching) {
    await bestEffort(deps, 'tts cache write', () => deps.redis.set(key, JSON.stringify(entry), 'EX', deps.cacheTtlSec));
  }
  return { ...entry, cached: false };
}

/** A Redis problem degrades to a cache miss: a caller must still hear the prompt. */
async function readCache(deps: SynthesizeDeps, key: string): Promise<CacheEntry | undefined> {
  let raw: string | null;
  try {
    raw = await deps.redis.get(key);
  } catch (err) {
    deps.logger?.warn({ err: errorMessage(err) }, 'tts cache read failed; synthesizing');
    return undefined;
  }
  if (!raw) return undefined;
  try {
    const v = JSON.parse(raw) as Partial<CacheEntry>;
    if (typeof v.fileName === 'string' && GENERATED_NAME.test(v.fileName) && typeof v.durationMs === 'number' && typeof v.sampleRate === 'number') {
      return { fileName: v.fileName, durationMs: v.durationMs, sampleRate: v.sampleRate };
    }
  } catch {
    // fall through: a corrupt entry is a miss and gets overwritten
  }
  deps.logger?.warn({ key }, 'ignoring malformed tts cache entry');
  return undefined;
}

/**
 * Refreshes the file's mtime so the cleanup keeps a hot prompt. utimes doubles as the existence
 * check: there is no window between "it exists" and "it was touched" for the cleanup to hit.
 */
async function touch(file: string, nowMs: number): Promise<boolean> {
  try {
    const t = nowMs / 1000;
    await utimes(file, t, t);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

async function bestEffort(deps: SynthesizeDeps, what: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    deps.logger?.warn({ err: errorMessage(err) }, `${what} failed`);
  }
}

/**
 * Write to a temp name in the same directory, then rename: a reader (Telnyx fetching the URL) sees
 * either no file or the whole file, never a partial one. The dot-prefixed temp name is never
 * servable, and a temp file orphaned by a crash is removed by the age-based cleanup.
 */
async function writeAtomically(dir: string, fileName: string, data: Buffer): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${fileName}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, data, { mode: 0o644, flag: 'wx' });
    await rename(tmp, path.join(dir, fileName));
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

export interface SynthesizedSegment extends SynthesizedFile {
  /** The audio itself (so a live call can play it without reading the file back). */
  samples: Int16Array;
}

/**
 * Like synthesizeToFile, for a live stream-mode call: returns the samples at once and writes the
 * file and cache entry in the background (later calls saying the same text hit the cache). Saves
 * the WAV rebuild, write and read-back on the path to the caller's first audio.
 */
export async function synthesizeSegment(deps: SynthesizeDeps, req: SynthesizeToFileRequest): Promise<SynthesizedSegment> {
  const now = deps.now ?? Date.now;
  const text = normalizeTtsText(req.text);
  const key = `${deps.cachePrefix}:${ttsCacheKey({ ...req, text })}`;
  const caching = deps.cacheTtlSec > 0;
  if (caching) {
    const hit = await readCache(deps, key);
    if (hit) {
      try {
        const wav = parseWav(await readFile(path.join(deps.storageDir, hit.fileName)));
        void touch(path.join(deps.storageDir, hit.fileName), now());
        return { ...hit, cached: true, samples: wav.samples, sampleRate: wav.sampleRate };
      } catch {
        // Cached file gone (cleanup): synthesize again below.
      }
    }
  }
  const audio = await deps.tts.synthesize({ url: req.url, text, voice: req.voice, speed: req.speed, sampleRate: req.sampleRate, signal: req.signal });
  const fileName = newFileName();
  const entry: CacheEntry = { fileName, durationMs: Math.round((audio.samples.length / audio.sampleRate) * 1000), sampleRate: audio.sampleRate };
  void (async () => {
    await writeAtomically(deps.storageDir, fileName, buildWav(audio.samples, audio.sampleRate));
    if (caching) await bestEffort(deps, 'tts cache write', () => deps.redis.set(key, JSON.stringify(entry), 'EX', deps.cacheTtlSec));
  })().catch((err: unknown) => deps.logger?.warn({ err: (err as Error).message }, 'could not store synthesized segment'));
  return { ...entry, cached: false, samples: audio.samples };
}
