import { mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cleanupAudioDir } from '../../src/jobs/maintenance/audio-cleanup';

describe('cleanupAudioDir', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('deletes files older than the limit and keeps newer ones, symlinks and directories', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cleanup-unit-'));
    const outside = mkdtempSync(path.join(os.tmpdir(), 'cleanup-outside-'));
    dirs.push(dir, outside);
    const target = path.join(outside, 'precious.wav');
    writeFileSync(target, 'x');
    const now = Date.now();
    const make = (name: string, ageMs: number) => {
      const f = path.join(dir, name);
      writeFileSync(f, 'x');
      utimesSync(f, (now - ageMs) / 1000, (now - ageMs) / 1000);
      return f;
    };
    const old = make('old.wav', 25 * 3600_000);
    const young = make('young.wav', 23 * 3600_000);
    symlinkSync(target, path.join(dir, 'link.wav'));
    utimesSync(target, (now - 48 * 3600_000) / 1000, (now - 48 * 3600_000) / 1000);

    const result = await cleanupAudioDir(dir, 24 * 3600_000, now);
    expect(result).toEqual({ scanned: 2, deleted: 1, errors: 0 });
    expect(existsSync(old)).toBe(false);
    expect(existsSync(young)).toBe(true);
    expect(existsSync(target)).toBe(true);
  });

  it('treats a missing directory as empty', async () => {
    await expect(cleanupAudioDir('/nonexistent/veralux', 1000)).resolves.toEqual({ scanned: 0, deleted: 0, errors: 0 });
  });
});
