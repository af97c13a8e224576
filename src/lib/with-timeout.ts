import { realTimers, type Timers } from './timers';

/**
 * The one race of a promise against a timeout, on `timers` (real ones are unref'd: the timer never
 * keeps the process alive). Settles as `p` does if `p` settles within `ms`; otherwise with the timeout:
 * `what` given → rejects with `Error('<what> timed out after <ms> ms')`; `onTimeout` given → resolves to
 * its value (or rejects with what it throws). The timer is cancelled as soon as `p` settles; `p` is
 * not cancelled on timeout (its late rejection is handled here, never unhandled).
 */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string, timers?: Timers): Promise<T>;
export function withTimeout<T, F>(p: Promise<T>, ms: number, onTimeout: () => F, timers?: Timers): Promise<T | F>;
export function withTimeout<T, F>(p: Promise<T>, ms: number, timeout: string | (() => F), timers: Timers = realTimers): Promise<T | F> {
  return new Promise<T | F>((resolve, reject) => {
    const cancel = timers.after(ms, () => {
      if (typeof timeout === 'string') return reject(new Error(`${timeout} timed out after ${ms} ms`));
      try {
        resolve(timeout());
      } catch (err) {
        reject(err);
      }
    });
    p.then(
      (value) => {
        cancel();
        resolve(value);
      },
      (err: unknown) => {
        cancel();
        reject(err);
      },
    );
  });
}
