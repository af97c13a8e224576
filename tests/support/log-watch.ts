/**
 * A logger that hands each JSON line to the test as it is written, so a test can wait for the
 * runtime's own report of something (a turn completed, a barge-in) instead of guessing how long it
 * takes. Lines are parsed once; waiters are checked on every line, never by polling.
 */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/lib/logger';

export type LogLine = Record<string, unknown>;

export interface LogWatch {
  logger: Logger;
  /** Every line so far, in order. */
  readonly lines: LogLine[];
  /** Resolves with the first line (already written or still to come) that matches; rejects after timeoutMs. */
  waitFor(match: (line: LogLine) => boolean, timeoutMs?: number, what?: string): Promise<LogLine>;
}

export function logWatch(level = 'info'): LogWatch {
  const lines: LogLine[] = [];
  const waiters = new Set<{ match: (l: LogLine) => boolean; done: (l: LogLine) => void }>();
  let partial = '';
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      const text = partial + chunk.toString();
      const parts = text.split('\n');
      partial = parts.pop() ?? '';
      for (const part of parts) {
        if (!part) continue;
        const line = JSON.parse(part) as LogLine;
        lines.push(line);
        for (const w of [...waiters]) if (w.match(line)) w.done(line);
      }
      cb();
    },
  });
  return {
    logger: createLogger({ level, destination: dest }),
    lines,
    waitFor(match, timeoutMs = 15_000, what = 'log line') {
      const seen = lines.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const w = {
          match,
          done: (l: LogLine) => {
            clearTimeout(timer);
            waiters.delete(w);
            resolve(l);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`${what} not logged within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(w);
      });
    },
  };
}
