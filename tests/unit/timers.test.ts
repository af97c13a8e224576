import { ManualTime } from '../../src/lib/manual-timers';
import { abortableDelay, realTimers } from '../../src/lib/timers';
import { withTimeout } from '../../src/lib/with-timeout';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** The promise's outcome so far, after pending microtasks ran. */
async function outcome<T>(p: Promise<T>): Promise<{ value: T } | { error: unknown } | 'pending'> {
  let r: { value: T } | { error: unknown } | 'pending' = 'pending';
  p.then(
    (value) => (r = { value }),
    (error: unknown) => (r = { error }),
  );
  for (let i = 0; i < 5; i += 1) await Promise.resolve();
  return r;
}

describe('withTimeout', () => {
  it('settles as the promise does when it settles in time, and cancels its timer', async () => {
    const time = new ManualTime();
    const d = deferred<string>();
    const p = withTimeout(d.promise, 100, 'op', time);
    expect(time.pendingTimers).toBe(1);
    time.advance(99);
    d.resolve('done');
    expect(await outcome(p)).toEqual({ value: 'done' });
    expect(time.pendingTimers).toBe(0);

    const e = deferred<string>();
    const q = withTimeout(e.promise, 100, () => 'late' as const, time);
    e.reject(new Error('boom'));
    expect(await outcome(q)).toEqual({ error: new Error('boom') });
    expect(time.pendingTimers).toBe(0);
  });

  it('with a name, rejects with "<what> timed out after <ms> ms" once ms pass', async () => {
    const time = new ManualTime();
    const d = deferred<string>();
    const p = withTimeout(d.promise, 250, 'redis check', time);
    time.advance(249);
    expect(await outcome(p)).toBe('pending');
    time.advance(1);
    expect(await outcome(p)).toEqual({ error: new Error('redis check timed out after 250 ms') });
    // The promise settling later changes nothing (and its rejection is not unhandled).
    d.reject(new Error('late failure'));
    expect(await outcome(p)).toEqual({ error: new Error('redis check timed out after 250 ms') });
  });

  it('with onTimeout, resolves to its value (or rejects with what it throws) once ms pass', async () => {
    const time = new ManualTime();
    const p = withTimeout(new Promise<'exited'>(() => undefined), 50, () => 'late' as const, time);
    time.advance(50);
    expect(await outcome(p)).toEqual({ value: 'late' });

    const q = withTimeout(new Promise<void>(() => undefined), 50, () => {
      throw new Error('gave up');
    }, time);
    time.advance(50);
    expect(await outcome(q)).toEqual({ error: new Error('gave up') });
    expect(time.pendingTimers).toBe(0);
  });

  it('runs on real timers by default', async () => {
    await expect(withTimeout(new Promise<void>(() => undefined), 5, () => 'late')).resolves.toBe('late');
    await expect(withTimeout(Promise.resolve(1), 5, 'x')).resolves.toBe(1);
  });
});

describe('abortableDelay', () => {
  it('resolves after ms, or rejects as soon as the signal aborts', async () => {
    const time = new ManualTime();
    const p = abortableDelay(time, 100, undefined, () => new Error('aborted'));
    time.advance(100);
    expect(await outcome(p)).toEqual({ value: undefined });

    const ac = new AbortController();
    const q = abortableDelay(time, 100, ac.signal, () => new Error('aborted'));
    ac.abort();
    expect(await outcome(q)).toEqual({ error: new Error('aborted') });
    expect(time.pendingTimers).toBe(0);
  });

  it('rejects at once, arming no timer, when the signal has already aborted', async () => {
    const time = new ManualTime();
    const ac = new AbortController();
    ac.abort(new Error('hangup'));
    const p = abortableDelay(time, 100, ac.signal, () => new Error(`aborted: ${(ac.signal.reason as Error).message}`));
    expect(await outcome(p)).toEqual({ error: new Error('aborted: hangup') });
    expect(time.pendingTimers).toBe(0);
  });
});

describe('Timers.every', () => {
  it('ManualTime runs fn every ms until cancelled', () => {
    const time = new ManualTime();
    let n = 0;
    const stop = time.every(10, () => (n += 1));
    time.advance(35);
    expect(n).toBe(3);
    stop();
    time.advance(100);
    expect(n).toBe(3);
    expect(time.pendingTimers).toBe(0);
  });

  it('realTimers runs fn every ms until cancelled', async () => {
    let n = 0;
    const stop = realTimers.every(5, () => (n += 1));
    await new Promise((resolve) => setTimeout(resolve, 40));
    stop();
    const seen = n;
    expect(seen).toBeGreaterThanOrEqual(1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(n).toBe(seen);
  });
});
