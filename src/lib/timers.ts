/**
 * One-shot timers, injected so tests run them on a fake clock (src/media/playout/manual-time.ts
 * implements this too). Every timer is unref'd: a pending timer never keeps the process alive.
 */

/** Cancels the timer; calling it again, or after the timer fired, does nothing. */
export type CancelTimer = () => void;

export interface Timers {
  /** Runs `fn` once, `ms` from now. */
  after(ms: number, fn: () => void): CancelTimer;
}

export const realTimers: Timers = {
  after(ms, fn) {
    const handle = setTimeout(fn, ms);
    handle.unref();
    return () => clearTimeout(handle);
  },
};
