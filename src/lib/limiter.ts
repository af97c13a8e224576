/**
 * Per-process bound on in-flight requests to a speech service (`kind`: Whisper STT or Kokoro TTS).
 * Such a server works on a handful of requests at a time; sending it every call's work at once only
 * makes all of it late. So:
 * - at most `maxConcurrent` tasks run at once;
 * - excess tasks wait in a FIFO of at most `maxQueue` entries, each for at most `queueTimeoutMs`;
 * - when the FIFO is full, or a task waited too long, it is rejected at once with a retryable
 *   AppError `<kind>_overloaded` (HTTP 503) so the turn can apologise instead of hanging;
 * - a waiting task whose caller aborts (barge-in, hangup) leaves the queue with `<kind>_aborted`.
 * One limiter per process and service (the STT client owns its own; stream-mode TTS has one); it is
 * not shared across instances.
 */
import { AppError } from './errors';
import { type CancelTimer, realTimers, type Timers } from './timers';

export type LimitedService = 'stt' | 'tts';

export interface LimiterOptions {
  /** Names the errors (`stt_overloaded`, `tts_aborted` …) and their messages. */
  kind: LimitedService;
  maxConcurrent: number;
  maxQueue: number;
  /** Longest a task may wait for a slot; unbounded when omitted. */
  queueTimeoutMs?: number;
  /** Arms the queueTimeoutMs timers; default realTimers. */
  timers?: Timers;
}

export interface Limiter {
  /** Runs `task` once a slot is free; the slot is held until its promise settles. */
  run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  readonly active: number;
  readonly queued: number;
}

interface Waiter {
  grant(): void;
}

export const abortedError = (kind: LimitedService, cause?: unknown) =>
  new AppError(`${kind}_aborted`, `${kind.toUpperCase()} request aborted by the caller`, { status: 499, cause });

const overloaded = (kind: LimitedService, message: string, details: Record<string, unknown>) =>
  new AppError(`${kind}_overloaded`, `${kind.toUpperCase()} overloaded: ${message}`, { status: 503, retryable: true, details });

export function createLimiter(opts: LimiterOptions): Limiter {
  const kind = opts.kind;
  if (!Number.isInteger(opts.maxConcurrent) || opts.maxConcurrent < 1) throw new Error('maxConcurrent must be an integer ≥ 1');
  if (!Number.isInteger(opts.maxQueue) || opts.maxQueue < 0) throw new Error('maxQueue must be an integer ≥ 0');
  const timers = opts.timers ?? realTimers;
  let active = 0;
  const queue: Waiter[] = [];

  const release = () => {
    const next = queue.shift();
    // The slot passes straight to the next waiter, so `active` is unchanged.
    if (next) next.grant();
    else active -= 1;
  };

  const acquire = (signal?: AbortSignal): Promise<void> => {
    if (signal?.aborted) return Promise.reject(abortedError(kind, signal.reason));
    if (active < opts.maxConcurrent && queue.length === 0) {
      active += 1;
      return Promise.resolve();
    }
    if (queue.length >= opts.maxQueue) {
      return Promise.reject(
        overloaded(kind, `${active} in flight, ${queue.length} waiting`, { active, queued: queue.length }),
      );
    }
    return new Promise<void>((resolve, reject) => {
      let cancelTimer: CancelTimer | undefined;
      const leave = (err: AppError) => {
        const i = queue.indexOf(waiter);
        if (i >= 0) queue.splice(i, 1);
        cleanup();
        reject(err);
      };
      const onAbort = () => leave(abortedError(kind, signal?.reason));
      const cleanup = () => {
        cancelTimer?.();
        signal?.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        grant() {
          cleanup();
          resolve();
        },
      };
      queue.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (opts.queueTimeoutMs !== undefined) {
        const ms = opts.queueTimeoutMs;
        cancelTimer = timers.after(ms, () => leave(overloaded(kind, `waited ${ms} ms for a slot`, { waitedMs: ms })));
      }
    });
  };

  return {
    async run(task, signal) {
      await acquire(signal);
      try {
        return await task();
      } finally {
        release();
      }
    },
    get active() {
      return active;
    },
    get queued() {
      return queue.length;
    },
  };
}
