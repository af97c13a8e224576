/**
 * Starting one of the runtime's worker threads (the Silero VAD worker, the speech front-end workers):
 * the plain-JS boot file next to this module loads the worker's module — compiled `.js` in a build,
 * `.ts` through tsx when the runtime runs from sources — and the worker answers `{type: 'ready'}` once it
 * can work, or `{type: 'error', message}`. Start fails on that error, on an exit or error event, or after
 * `timeoutMs`; the worker is then terminated.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { errorMessage } from '../../lib/errors';
import { realTimers, type Timers } from '../../lib/timers';

/** The worker module `name` (without extension) in `dir`, as this build runs it (`.ts` from sources, else `.js`). */
export function workerModule(dir: string, name: string, callerFile: string): string {
  return path.join(dir, `${name}${callerFile.endsWith('.ts') ? '.ts' : '.js'}`);
}

export function startWorkerThread(entry: string, data: Record<string, unknown>, opts: { label: string; timeoutMs: number; timers?: Timers }): Promise<Worker> {
  const worker = new Worker(path.join(__dirname, 'silero-worker-boot.js'), { workerData: { entry, ...data } });
  return new Promise((resolve, reject) => {
    // Only our own listeners come off: removeAllListeners() would also drop the Worker's internal
    // ones that keep its port referenced.
    const off = () => {
      cancelTimer();
      worker.off('error', onError);
      worker.off('exit', onExit);
      worker.off('message', onMessage);
    };
    const fail = (why: string) => {
      off();
      void worker.terminate();
      reject(new Error(why));
    };
    const onError = (err: unknown) => fail(`${opts.label} failed: ${errorMessage(err)}`);
    const onExit = (code: number) => fail(`${opts.label} exited during start (code ${code})`);
    const onMessage = (m: { type?: unknown; message?: unknown }) => {
      if (m?.type !== 'ready') return fail(m?.type === 'error' ? String(m.message) : `unexpected first message from the ${opts.label}`);
      off();
      resolve(worker);
    };
    const cancelTimer = (opts.timers ?? realTimers).after(opts.timeoutMs, () => fail(`${opts.label} did not start in time`));
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.on('message', onMessage);
  });
}
