/**
 * Runs a repository script as a child process (as an operator would) and collects its output.
 * Children get a minimal environment (PATH, HOME, TMPDIR + what the test passes) and run in a temp
 * directory by default (removed when they exit), so neither the developer's exported variables nor
 * a `.env` in the repository leak in. TMPDIR is passed on so what a script puts in the temp dir
 * stays in the test run's scratch dir (run-scratch.ts).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '../..');
export const TSX = path.join(REPO_ROOT, 'node_modules/.bin/tsx');
export const script = (name: string) => path.join(REPO_ROOT, 'scripts', name);

export interface ScriptResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  timeoutMs?: number;
}

/** A directory with no .env: the default cwd of scripts under test. The caller removes it (or the run's scratch does). */
export function emptyDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'veralux-script-'));
}

export function baseEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? os.tmpdir(), TMPDIR: os.tmpdir(), LANG: 'C.UTF-8' };
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

export function runScript(command: string, args: string[], opts: RunOptions = {}): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    const ownCwd = opts.cwd === undefined ? emptyDir() : undefined;
    const removeCwd = () => ownCwd && rmSync(ownCwd, { recursive: true, force: true });
    const child = spawn(command, args, { cwd: opts.cwd ?? ownCwd, env: baseEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      removeCwd();
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      removeCwd();
      resolve({ code, signal, stdout, stderr });
    });
  });
}
