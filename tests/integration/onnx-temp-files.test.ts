/**
 * onnxruntime-node (the Silero VAD) ships usage telemetry that, in every process loading it, writes
 * `.ses` and `mat-debug-<pid>.log` into the temp dir (and uploads usage data). The runtime turns it
 * off: a process that loads the model — on its own thread, or on the VAD worker thread the runtime
 * uses — leaves its temp dir as it found it. Run in child processes with a fresh TMPDIR and an
 * environment without ORT_DISABLE_TELEMETRY, as an operator's process starts.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT, runScript } from '../support/run-script';

jest.setTimeout(60_000);

const src = (p: string) => JSON.stringify(path.join(REPO_ROOT, 'src', p));
const PROGRAMS = {
  'on the calling thread': `
    import { SileroModel } from ${src('media/vad/silero-model')};
    void SileroModel.load().then((m) => m.release());`,
  'on the VAD worker thread': `
    import { SileroWorkerClient } from ${src('media/vad/silero-remote')};
    void SileroWorkerClient.start({ model: {}, vad: {} }).then((c) => c.close());`,
};

describe('loading the Silero model', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'veralux-onnx-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it.each(Object.entries(PROGRAMS))('%s leaves nothing in the temp dir', async (_where, program) => {
    const file = path.join(dir, 'load.ts');
    writeFileSync(file, program);
    const tmpdir = path.join(dir, 'tmp');
    mkdirSync(tmpdir);
    // TSX_DISABLE_CACHE: tsx would otherwise keep its compile cache in the temp dir too.
    const r = await runScript(process.execPath, ['--import', 'tsx', file], { cwd: REPO_ROOT, env: { TMPDIR: tmpdir, TSX_DISABLE_CACHE: '1' } });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(readdirSync(tmpdir)).toEqual([]);
  });
});
