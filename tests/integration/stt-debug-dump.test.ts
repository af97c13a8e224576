import fs from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createSttDebugDumper, safeCallFileStem } from '../../src/lib/stt/debug-dump';
import { buildWav, parseWav } from '../../src/lib/audio/wav';

describe('STT debug dumper', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'stt-dump-'));
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await rm(root, { recursive: true, force: true });
  });

  it('makes safe, distinct, stable file stems', () => {
    expect(safeCallFileStem('v3:abc-DEF_1')).toMatch(/^v3_abc-DEF_1-[0-9a-f]{12}$/);
    expect(safeCallFileStem('../../etc/passwd')).toMatch(/^______etc_passwd-[0-9a-f]{12}$/);
    expect(safeCallFileStem('')).toMatch(/^call-[0-9a-f]{12}$/);
    expect(safeCallFileStem('a/b')).not.toBe(safeCallFileStem('a_b'));
    expect(safeCallFileStem('x'.repeat(500)).length).toBe(40 + 13);
    expect(safeCallFileStem('same')).toBe(safeCallFileStem('same'));
  });

  it('does nothing when both dumps are off', async () => {
    const dir = path.join(root, 'off');
    const d = createSttDebugDumper({ dir, dumpWavs: false, dumpPcm: false });
    expect(d.enabled).toBe(false);
    d.wav('c', 1, buildWav(new Int16Array(10), 16000));
    d.pcm('c', new Int16Array(10));
    await d.close('c');
    await d.flush();
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('writes WAVs and appends PCM asynchronously (no sync fs calls), inside the dir only', async () => {
    const syncCalls = (['writeFileSync', 'appendFileSync', 'mkdirSync', 'openSync', 'writeSync'] as const).map((m) => jest.spyOn(fs, m));
    const dir = path.join(root, 'nested', 'dumps');
    const d = createSttDebugDumper({ dir, dumpWavs: true, dumpPcm: true });
    const callId = '../../evil/../call:1';
    const wav = buildWav(Int16Array.from([1, 2, 3]), 16000);
    d.wav(callId, 7, wav);
    wav.fill(0); // the dumper copied it
    const chunk = Int16Array.from([1, -2, 300]);
    d.pcm(callId, chunk);
    chunk.fill(9); // copied too
    d.pcm(callId, Int16Array.from([-32768, 32767]));
    d.pcm(callId, Int16Array.from([5]));
    expect(fs.existsSync(dir)).toBe(false); // nothing written synchronously
    await d.close(callId);
    const stem = safeCallFileStem(callId);
    expect((await readdir(dir)).sort()).toEqual([`${stem}-00007.wav`, `${stem}.s16le.pcm`].sort());
    expect(await readdir(root)).toEqual(['nested']);
    expect(Array.from(parseWav(await readFile(path.join(dir, `${stem}-00007.wav`))).samples)).toEqual([1, 2, 3]);
    const pcm = await readFile(path.join(dir, `${stem}.s16le.pcm`));
    expect(Array.from({ length: pcm.length / 2 }, (_, i) => pcm.readInt16LE(i * 2))).toEqual([1, -2, 300, -32768, 32767, 5]);
    for (const spy of syncCalls) expect(spy).not.toHaveBeenCalled();
  });

  it('honours the flags separately', async () => {
    const d = createSttDebugDumper({ dir: root, dumpWavs: false, dumpPcm: true });
    d.wav('c', 1, buildWav(new Int16Array(4), 16000));
    d.pcm('c', new Int16Array(4));
    await d.close('c');
    expect(await readdir(root)).toEqual([`${safeCallFileStem('c')}.s16le.pcm`]);
  });

  it('stops dumping a call past its byte budget and caps calls at once', async () => {
    const d = createSttDebugDumper({ dir: root, dumpWavs: true, dumpPcm: true, maxBytesPerCall: 100, maxCalls: 2 });
    d.pcm('a', new Int16Array(40)); // 80 bytes
    d.pcm('a', new Int16Array(20)); // would be 120 → stop
    d.pcm('a', new Int16Array(1)); // stopped for good
    d.wav('a', 1, buildWav(new Int16Array(1), 16000));
    d.pcm('b', new Int16Array(1));
    d.pcm('c', new Int16Array(1)); // third call at once: skipped
    await d.flush();
    const sizes = Object.fromEntries(
      await Promise.all((await readdir(root)).map(async (f) => [f, (await readFile(path.join(root, f))).length] as const)),
    );
    expect(sizes).toEqual({ [`${safeCallFileStem('a')}.s16le.pcm`]: 80, [`${safeCallFileStem('b')}.s16le.pcm`]: 2 });
    await Promise.all([d.close('a'), d.close('b')]);
    d.pcm('c', new Int16Array(1)); // room again after others closed
    await d.close('c');
    expect(fs.existsSync(path.join(root, `${safeCallFileStem('c')}.s16le.pcm`))).toBe(true);
  });

  it('logs and swallows write errors', async () => {
    const file = path.join(root, 'not-a-dir');
    fs.writeFileSync(file, 'x');
    const warn = jest.fn();
    const d = createSttDebugDumper({ dir: file, dumpWavs: true, dumpPcm: true, logger: { warn } as never });
    d.wav('c', 1, buildWav(new Int16Array(2), 16000));
    d.pcm('c', new Int16Array(2));
    await d.close('c');
    expect(warn).toHaveBeenCalled();
  });
});
