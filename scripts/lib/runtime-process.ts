/**
 * Runs the real runtime (src/main.ts through tsx) as a child process with an explicit environment,
 * for the demo and the load test: every config variable the caller does not set is passed as ""
 * so neither the parent's shell nor a .env file (main.ts loads one, without overriding) leaks in.
 * Its stdout is pino JSON: every line is parsed and handed to `onLog`, and kept in a log file.
 * `stop()` sends SIGTERM (graceful shutdown), then SIGKILL after a grace period; `killNow()` is
 * for process-exit handlers. Only the child's own PID is ever signalled.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { configSchema } from '../../src/lib/config';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

export type LogLine = Record<string, unknown> & { level?: number; msg?: string };

export interface RuntimeProcessOptions {
  /** Config variables for the runtime (PORT included). */
  env: Record<string, string>;
  /** Every stdout line that is JSON (pino), parsed. */
  onLog?: (line: LogLine) => void;
  /** Non-JSON output (stderr, stack traces). */
  onText?: (text: string) => void;
  logFile?: string;
}

export interface RuntimeProcess {
  pid: number;
  url: string;
  /** Resolves with the exit code (or 128+signal) when the child exits. */
  exited: Promise<number>;
  /** Last lines of output, for error reports. */
  tail(n?: number): string[];
  waitReady(timeoutMs: number): Promise<void>;
  stop(graceMs?: number): Promise<number>;
  killNow(): void;
}

/** The runtime's environment: inherited PATH/HOME/…, no inherited config, `env` on top, the rest "". */
export function runtimeEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const keys = Object.keys(configSchema.shape);
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!keys.includes(k) && k !== 'NODE_OPTIONS') out[k] = v;
  for (const k of keys) out[k] = '';
  // A tool's runtime is the only instance: on stop() its calls have nowhere to go, so it waits for them
  // briefly rather than the production default (env wins when a caller sets it).
  return { ...out, DRAIN_TIMEOUT_MS: '3000', ...env };
}

export function spawnRuntime(opts: RuntimeProcessOptions): RuntimeProcess {
  // RUNTIME_CPU_PROF=DIR: write a V8 CPU profile of the runtime child there when it exits (for profiling benches).
  const prof = process.env.RUNTIME_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.RUNTIME_CPU_PROF] : [];
  const child: ChildProcess = spawn(process.execPath, [...prof, '--import', 'tsx', path.join(REPO_ROOT, 'src', 'main.ts')], {
    cwd: REPO_ROOT,
    env: runtimeEnv(opts.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid ?? -1;
  const lines: string[] = [];
  const log: WriteStream | undefined = opts.logFile ? createWriteStream(opts.logFile) : undefined;
  const remember = (l: string) => {
    lines.push(l);
    if (lines.length > 200) lines.shift();
    log?.write(`${l}\n`);
  };
  let spawnError: Error | undefined;
  child.on('error', (err) => (spawnError = err));
  const exited = new Promise<number>((resolve) => {
    child.on('exit', (code, signal) => {
      log?.end();
      resolve(code ?? (signal ? 128 + ({ SIGTERM: 15, SIGKILL: 9, SIGINT: 2 }[signal as string] ?? 0) : 1));
    });
    child.on('error', () => resolve(127));
  });
  readline.createInterface({ input: child.stdout! }).on('line', (l) => {
    remember(l);
    if (l.startsWith('{')) {
      try {
        opts.onLog?.(JSON.parse(l) as LogLine);
        return;
      } catch {
        /* not JSON after all */
      }
    }
    opts.onText?.(l);
  });
  readline.createInterface({ input: child.stderr! }).on('line', (l) => {
    remember(l);
    opts.onText?.(l);
  });
  const url = `http://127.0.0.1:${opts.env.PORT}`;
  let done = false;
  void exited.then(() => (done = true));

  return {
    pid,
    url,
    exited,
    tail: (n = 30) => lines.slice(-n),
    async waitReady(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (spawnError) throw new Error(`could not start the runtime: ${spawnError.message}`);
        if (done) throw new Error(`the runtime exited during startup (code ${await exited})`);
        try {
          const res = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(1000) });
          if (res.status === 200) return;
        } catch {
          /* not listening yet */
        }
        if (Date.now() > deadline) throw new Error(`the runtime was not ready within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async stop(graceMs = 12_000) {
      if (done) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (!done) child.kill('SIGKILL');
      }, graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    killNow() {
      if (!done && pid > 0) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    },
  };
}
