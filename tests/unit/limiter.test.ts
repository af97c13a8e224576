import { AppError } from '../../src/lib/errors';
import { createLimiter } from '../../src/lib/limiter';
import { ManualTime } from '../../src/lib/manual-timers';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

async function rejection(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected a rejection');
}

describe('speech service limiter', () => {
  it('runs at most maxConcurrent tasks, FIFO for the rest', async () => {
    const lim = createLimiter({ kind: 'stt', maxConcurrent: 2, maxQueue: 10 });
    const gates = Array.from({ length: 5 }, deferred);
    const started: number[] = [];
    const runs = gates.map((g, i) => lim.run(async () => (started.push(i), await g.promise, i)));
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect(lim.active).toBe(2);
    expect(lim.queued).toBe(3);
    gates[1]!.resolve();
    await runs[1];
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2]);
    gates.forEach((g) => g.resolve());
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3, 4]);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(lim.active).toBe(0);
    expect(lim.queued).toBe(0);
  });

  it('rejects fast with retryable stt_overloaded when the queue is full', async () => {
    const lim = createLimiter({ kind: 'stt', maxConcurrent: 1, maxQueue: 1 });
    const gate = deferred();
    const a = lim.run(() => gate.promise);
    const b = lim.run(async () => 'b');
    const err = await rejection(lim.run(async () => 'c'));
    expect(err).toMatchObject({ code: 'stt_overloaded', retryable: true, status: 503 });
    gate.resolve();
    await a;
    expect(await b).toBe('b');
  });

  it('times out a queued task with stt_overloaded after exactly queueTimeoutMs', async () => {
    const time = new ManualTime();
    const lim = createLimiter({ kind: 'stt', maxConcurrent: 1, maxQueue: 5, queueTimeoutMs: 20, timers: time });
    const gate = deferred();
    const a = lim.run(() => gate.promise);
    const late = rejection(lim.run(async () => 'late'));
    time.advance(19);
    expect(lim.queued).toBe(1);
    time.advance(1);
    const err = await late;
    expect(err.code).toBe('stt_overloaded');
    expect(err.details).toEqual({ waitedMs: 20 });
    expect(lim.queued).toBe(0);
    gate.resolve();
    await a;
    expect(lim.active).toBe(0);
  });

  it('a waiter granted its slot in time cancels its timeout', async () => {
    const time = new ManualTime();
    const lim = createLimiter({ kind: 'stt', maxConcurrent: 1, maxQueue: 5, queueTimeoutMs: 20, timers: time });
    const gate = deferred();
    const a = lim.run(() => gate.promise);
    const b = lim.run(async () => 'b');
    expect(time.pendingTimers).toBe(1);
    time.advance(10);
    gate.resolve();
    await a;
    expect(await b).toBe('b');
    expect(time.pendingTimers).toBe(0);
    time.advance(100);
    expect(lim.active).toBe(0);
  });

  it('removes an aborted waiter and releases slots when tasks throw', async () => {
    const lim = createLimiter({ kind: 'stt', maxConcurrent: 1, maxQueue: 5 });
    const gate = deferred();
    const a = lim.run(() => gate.promise);
    const ac = new AbortController();
    const b = lim.run(async () => 'never', ac.signal);
    ac.abort();
    expect((await rejection(b)).code).toBe('stt_aborted');
    expect(lim.queued).toBe(0);
    expect((await rejection(lim.run(async () => 1, ac.signal))).code).toBe('stt_aborted');
    gate.resolve();
    await a;
    await expect(lim.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(lim.active).toBe(0);
    expect(await lim.run(async () => 'ok')).toBe('ok');
  });

  it('validates its options', () => {
    expect(() => createLimiter({ kind: 'stt', maxConcurrent: 0, maxQueue: 1 })).toThrow();
    expect(() => createLimiter({ kind: 'stt', maxConcurrent: 1, maxQueue: -1 })).toThrow();
  });

  it('names its errors after the service it guards (TTS limiter: tts_overloaded, tts_aborted)', async () => {
    const lim = createLimiter({ kind: 'tts', maxConcurrent: 1, maxQueue: 0 });
    const gate = deferred();
    const a = lim.run(() => gate.promise);
    const err = await rejection(lim.run(async () => 'c'));
    expect(err).toMatchObject({ code: 'tts_overloaded', retryable: true, status: 503 });
    expect(err.message).toMatch(/^TTS overloaded/);
    const ac = new AbortController();
    ac.abort();
    expect((await rejection(lim.run(async () => 1, ac.signal))).code).toBe('tts_aborted');
    gate.resolve();
    await a;
  });
});
