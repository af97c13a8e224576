/**
 * One scratch directory per jest run, under the system temp dir. The global setup of each project
 * opens it and points TMPDIR at it before any test process starts, so whatever the tests, the
 * runtimes they start, the scripts they run and third-party code put in "the temp dir" lands in it;
 * the global teardown removes it with everything inside. A run therefore leaves nothing new in /tmp
 * even when a test fails half-way or a library writes files of its own. Code that makes a temp
 * directory still removes it when done: the scratch is the net, not the rule.
 *
 * Both projects (unit, integration) run their global setups in jest's main process, one after the
 * other: the first opens the scratch, the others share it, the last teardown removes it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The run's scratch directory, for tests that want to name it (every test process inherits it). */
export const SCRATCH_ENV = 'VERALUX_TEST_SCRATCH';

interface Scratch {
  dir: string;
  users: number;
  /** TMPDIR as it was before the run (restored by the last teardown; jest --watch runs again). */
  tmpdirBefore: string | undefined;
}

// globalThis: jest loads each project's setup and teardown module separately, in the same process.
const KEY = Symbol.for('veralux.testScratch');
const state = globalThis as { [KEY]?: Scratch };

export function openScratch(): string {
  const open = state[KEY];
  if (open) {
    open.users += 1;
    return open.dir;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'veralux-test-run-'));
  state[KEY] = { dir, users: 1, tmpdirBefore: process.env.TMPDIR };
  process.env.TMPDIR = dir;
  process.env[SCRATCH_ENV] = dir;
  // onnxruntime-node (Silero VAD) writes `.ses` and `mat-debug-<pid>.log` into the temp dir of every
  // process that loads it, and uploads usage telemetry. The runtime turns that off itself
  // (silero-model.ts), but a test file's process.env is jest's sandboxed copy, which native code
  // never sees: the test processes inherit the switch from here.
  process.env.ORT_DISABLE_TELEMETRY = '1';
  return dir;
}

export function closeScratch(): void {
  const open = state[KEY];
  if (!open) return;
  open.users -= 1;
  if (open.users > 0) return;
  delete state[KEY];
  if (open.tmpdirBefore === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = open.tmpdirBefore;
  delete process.env[SCRATCH_ENV];
  rmSync(open.dir, { recursive: true, force: true });
}
