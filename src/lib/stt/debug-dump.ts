/**
 * Optional STT debugging dumps (STT_DEBUG_DUMP_WHISPER_WAVS, STT_DEBUG_DUMP_PCM16, STT_DEBUG_DIR):
 * - `wav(callId, seq, bytes)` → `<dir>/<stem>-<seq>.wav`, the exact file sent to Whisper;
 * - `pcm(callId, chunk)` → appended to `<dir>/<stem>.s16le.pcm` (raw mono PCM16 little-endian at
 *   the rate the caller feeds, 16 kHz for the STT path); `close(callId)` closes it (call it at hangup).
 *
 * Production safety: asynchronous I/O only (fs/promises; never sync calls on the media path), data
 * copied on entry so callers may reuse their buffers, errors logged and never thrown. File names
 * never contain the raw call id: `<stem>` = the id with everything but [A-Za-z0-9_-] replaced
 * (first 40 chars) + '-' + 12 hex chars of its SHA-256, so no traversal and no collisions. Bounded:
 * at most `maxBytesPerCall` (default 20 MiB) per call, then that call's dumping stops (logged once);
 * at most `maxCalls` (default 256) calls dumped at once, later calls are skipped until others close.
 * Both flags off → every method is a no-op and nothing touches the disk.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, writeFile, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../logger';

export interface SttDebugDumperOptions {
  /** Default `<os tmpdir>/veralux-stt-debug`. Created (0700) on first write. */
  dir?: string;
  dumpWavs: boolean;
  dumpPcm: boolean;
  maxBytesPerCall?: number;
  maxCalls?: number;
  logger?: Logger;
}

export interface SttDebugDumper {
  readonly enabled: boolean;
  wav(callId: string, seq: number, wavBytes: Buffer): void;
  pcm(callId: string, chunk: Int16Array): void;
  /** Flushes and closes the call's files and forgets it; never rejects. */
  close(callId: string): Promise<void>;
  /** Resolves when every write queued so far has finished (tests, shutdown). */
  flush(): Promise<void>;
}

export function safeCallFileStem(callId: string): string {
  const readable = callId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40) || 'call';
  return `${readable}-${createHash('sha256').update(callId, 'utf8').digest('hex').slice(0, 12)}`;
}

interface CallState {
  stem: string;
  bytes: number;
  /** No new data admitted (budget reached or a write failed). */
  stopped: boolean;
  /** A write failed: queued writes are skipped too. */
  failed: boolean;
  pcmChunks: Buffer[];
  pcmFile?: Promise<FileHandle>;
  /** Tail of this call's write chain: writes to one file stay in order. */
  chain: Promise<void>;
}

const NOOP: SttDebugDumper = {
  enabled: false,
  wav() {},
  pcm() {},
  close: async () => {},
  flush: async () => {},
};

function int16ToLe(chunk: Int16Array): Buffer {
  const out = Buffer.alloc(chunk.length * 2);
  for (let i = 0; i < chunk.length; i += 1) out.writeInt16LE(chunk[i]!, i * 2);
  return out;
}

export function createSttDebugDumper(opts: SttDebugDumperOptions): SttDebugDumper {
  if (!opts.dumpWavs && !opts.dumpPcm) return NOOP;
  const dir = path.resolve(opts.dir ?? path.join(os.tmpdir(), 'veralux-stt-debug'));
  const maxBytes = opts.maxBytesPerCall ?? 20 * 1024 * 1024;
  const maxCalls = opts.maxCalls ?? 256;
  const calls = new Map<string, CallState>();
  const pending = new Set<Promise<void>>();
  let ready: Promise<unknown> | undefined;
  let warnedCalls = false;

  const ensureDir = () => (ready ??= mkdir(dir, { recursive: true, mode: 0o700 }));

  const stop = (s: CallState, reason: string, err?: unknown) => {
    if (err !== undefined) {
      s.failed = true;
      s.pcmChunks = [];
    }
    if (s.stopped) return;
    s.stopped = true;
    opts.logger?.warn({ stem: s.stem, err: err instanceof Error ? err.message : err }, `STT debug dump stopped for call: ${reason}`);
  };

  const enqueue = (s: CallState, job: () => Promise<void>) => {
    const p = s.chain.then(() => (s.failed ? undefined : job())).catch((err: unknown) => stop(s, 'write failed', err ?? 'error'));
    s.chain = p;
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };

  /** The call's state with `n` more bytes admitted, or undefined when it must not be dumped. */
  const admit = (callId: string, n: number): CallState | undefined => {
    let s = calls.get(callId);
    if (!s) {
      if (calls.size >= maxCalls) {
        if (!warnedCalls) opts.logger?.warn({ maxCalls }, 'STT debug dump: too many calls at once, skipping new ones');
        warnedCalls = true;
        return undefined;
      }
      s = { stem: safeCallFileStem(callId), bytes: 0, stopped: false, failed: false, pcmChunks: [], chain: Promise.resolve() };
      calls.set(callId, s);
    }
    if (s.stopped) return undefined;
    if (s.bytes + n > maxBytes) {
      stop(s, `limit of ${maxBytes} bytes reached`);
      return undefined;
    }
    s.bytes += n;
    return s;
  };

  const drainPcm = (s: CallState) => async () => {
    if (s.pcmChunks.length === 0) return;
    const data = Buffer.concat(s.pcmChunks);
    s.pcmChunks = [];
    await ensureDir();
    s.pcmFile ??= open(path.join(dir, `${s.stem}.s16le.pcm`), 'a', 0o600);
    await (await s.pcmFile).write(data);
  };

  return {
    enabled: true,
    wav(callId, seq, wavBytes) {
      if (!opts.dumpWavs) return;
      const s = admit(callId, wavBytes.length);
      if (!s) return;
      const copy = Buffer.from(wavBytes);
      const n = Number.isSafeInteger(seq) && seq >= 0 ? seq : 0;
      const file = path.join(dir, `${s.stem}-${String(n).padStart(5, '0')}.wav`);
      enqueue(s, async () => {
        await ensureDir();
        await writeFile(file, copy, { mode: 0o600 });
      });
    },
    pcm(callId, chunk) {
      if (!opts.dumpPcm || chunk.length === 0) return;
      const s = admit(callId, chunk.length * 2);
      if (!s) return;
      s.pcmChunks.push(int16ToLe(chunk));
      // One queued drain writes every chunk that arrived before it ran (coalesced writes).
      if (s.pcmChunks.length === 1) enqueue(s, drainPcm(s));
    },
    async close(callId) {
      const s = calls.get(callId);
      if (!s) return;
      calls.delete(callId);
      await s.chain;
      if (s.pcmFile) {
        await s.pcmFile.then((fh) => fh.close()).catch((err: unknown) => stop(s, 'close failed', err ?? 'error'));
      }
    },
    async flush() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}
