/**
 * `npm run demo -- --ci` as a user runs it: a child process that starts its own redis-server, the
 * runtime (another child), the Telnyx simulator and the stand-ins, places one call and exits 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseWav } from '../../src/lib/audio/wav';
import { CALLER_LINES, DEMO_GREETING, DEMO_HOURS_REPLY } from '../../scripts/sim/script';

const ROOT = path.resolve(__dirname, '..', '..');

function runDemo(args: string[], timeoutMs: number): { child: ChildProcess; done: Promise<{ code: number | null; out: string }> } {
  const env = { ...process.env };
  for (const k of ['WHISPER_URL', 'KOKORO_URL', 'BRAIN_URL', 'NODE_OPTIONS']) delete env[k];
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'demo.ts'), ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const done = new Promise<{ code: number | null; out: string }>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
  return { child, done };
}

describe('npm run demo -- --ci', () => {
  let dir: string;
  let child: ChildProcess | undefined;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'veralux-demo-test-'));
  });
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('places a call through the real runtime, prints the conversation, releases the call and writes the recording', async () => {
    const wavPath = path.join(dir, 'call.wav');
    const run = runDemo(['--ci', '--out', wavPath, '--timeout', '100'], 110_000);
    child = run.child;
    const { code, out } = await run.done;
    if (code !== 0) console.error(out);
    expect(code).toBe(0);
    expect(out).toMatch(/STT\s+STAND-IN/);
    expect(out).toMatch(/answered: webhook → answer \d+ ms, media stream \(PCMU\) up \d+ ms/);
    expect(out).toContain(`agent   "${DEMO_GREETING}"`);
    expect(out).toContain(`caller  "${CALLER_LINES[0]}"`);
    expect(out).toContain(`runtime heard "${CALLER_LINES[0]}"`);
    expect(out).toMatch(/brain first token \d+ ms, first segment synthesized \d+ ms, first audio \d+ ms/);
    expect(out).toContain(`agent   "${DEMO_HOURS_REPLY}"  (tenant quick reply, no brain)`);
    expect(out).toMatch(/caps released: yes — Redis leases tenant 0, global 0; \/metrics active_calls 0, media_sessions 0/);
    expect(out).toMatch(/runtime stopped \(SIGTERM → exit code 0\)/);
    expect(out).toMatch(/Demo OK: 1 call, 2 caller turns answered/);
    expect(existsSync(wavPath)).toBe(true);
    const wav = parseWav(readFileSync(wavPath));
    expect(wav.channels).toBe(2);
    expect(wav.durationMs).toBeGreaterThan(8000);
  }, 120_000);
});
