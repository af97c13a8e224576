/**
 * The one timer abstraction of the runtime: monotonic time, one-shot and repeating timers, injected
 * so tests run them on a fake clock (ManualTime, src/lib/manual-timers.ts).
 * Every real timer is unref'd: a pending timer never keeps the process alive.
 */

/** Cancels the timer; calling it again, or after a one-shot timer fired, does nothing. */
export type CancelTimer = () => void;

export interface Timers {
  /** Monotonic milliseconds (performance.now): a wall-clock step (NTP) never moves it. */
  now(): number;
  /** Runs `fn` once, `ms` from now. */
  after(ms: number, fn: () => void): CancelTimer;
  /** Runs `fn` every `ms` until cancelled. */
  every(ms: number, fn: () => void): CancelTimer;
}

export const realTimers: Timers = {
  now: () => performance.now(),
  after(ms, fn) {
    const handle = setTimeout(fn, ms);
    handle.unref();
    return () => clearTimeout(handle);
  },
  every(ms, fn) {
    const handle = setInterval(fn, ms);
    handle.unref();
    return () => clearInterval(handle);
  },
};

/**
 * Resolves `ms` from now on `timers` (0: on the next microtask), or rejects with `abortError()` as soon
 * as `signal` aborts (at once if it already has), cancelling the timer.
 */
export function abortableDelay(timers: Timers, ms: number, signal: AbortSignal | undefined, abortError: () => Error): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const onAbort = () => {
      cancel();
      reject(abortError());
    };
    const done = () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    };
    let cancel: CancelTimer = () => {};
    if (ms > 0) cancel = timers.after(ms, done);
    else queueMicrotask(done);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
