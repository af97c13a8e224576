import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, utimesSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { closeRedis, createRedis } from '../../src/lib/redis';
import { createKokoroClient } from '../../src/lib/tts/kokoro-client';
import { ttsCacheKey } from '../../src/lib/tts/tts-cache-key';
import { synthesizeToFile, type SynthesizeDeps } from '../../src/lib/tts/synthesize';
import { parseWav } from '../../src/lib/audio/wav';
import { expectedDurationMs, startFakeKokoro, type FakeKokoro } from '../fakes/fake-kokoro';
import { testRedisUrl } from '../support/test-config';

describe('synthesizeToFile (real Redis, real HTTP fake)', () => {
  let redis: Redis;
  let fake: FakeKokoro;
  let dir: string;
  let deps: SynthesizeDeps;
  const prefix = `t${randomBytes(4).toString('hex')}:ttscache`;

  beforeAll(async () => {
    redis = createRedis(testRedisUrl(), 'request');
    fake = await startFakeKokoro({ sampleRate: 24000 });
  });
  beforeEach(() => {
    dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'veralux-tts-')), 'audio'); // created on first write
    deps = { tts: createKokoroClient({ timeoutMs: 2000 }), storageDir: dir, redis, cachePrefix: prefix, cacheTtlSec: 600 };
  });
  afterEach(() => rmSync(path.dirname(dir), { recursive: true, force: true }));
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await closeRedis(redis);
    await fake.close();
  });

  const req = (text: string) => ({ url: fake.speechUrl, text, voice: 'af_heart', sampleRate: 24000 });

  it('writes a mono PCM16 WAV with an unguessable name, then serves repeats from the cache', async () => {
    const text = 'Your appointment is confirmed for Tuesday.';
    const before = fake.requests.length;
    const first = await synthesizeToFile(deps, req(text));
    expect(first.cached).toBe(false);
    expect(first.sampleRate).toBe(24000);
    expect(first.durationMs).toBe(expectedDurationMs(text));
    expect(first.fileName).toMatch(/^[A-Za-z0-9_-]{22}\.wav$/);
    const hash = ttsCacheKey({ ...req(text), speed: 1 });
    expect(first.fileName).not.toContain(hash.slice(0, 8));
    expect(first.fileName.toLowerCase()).not.toContain('appointment');

    const wav = parseWav(readFileSync(path.join(dir, first.fileName)));
    expect(wav).toMatchObject({ channels: 1, bitsPerSample: 16, sampleRate: 24000 });
    expect(wav.durationMs).toBeCloseTo(first.durationMs, 0);
    expect(readdirSync(dir)).toEqual([first.fileName]); // no temp files left behind

    const cachedEntry = JSON.parse((await redis.get(`${prefix}:${hash}`))!);
    expect(cachedEntry).toEqual({ fileName: first.fileName, durationMs: first.durationMs, sampleRate: 24000 });
    expect(await redis.ttl(`${prefix}:${hash}`)).toBeGreaterThan(590);

    // whitespace-only differences hit the same entry without touching the TTS server
    const second = await synthesizeToFile(deps, req(`  ${text.replace(/ /g, '\n ')}  `));
    expect(second).toEqual({ ...first, cached: true });
    expect(fake.requests.length).toBe(before + 1);
    expect(fake.requests[fake.requests.length - 1]!.body.input).toBe(text);
  });

  it('gives different texts different random names', async () => {
    const a = await synthesizeToFile(deps, req('One'));
    const b = await synthesizeToFile(deps, req('Two'));
    expect(a.fileName).not.toBe(b.fileName);
    expect(readdirSync(dir).sort()).toEqual([a.fileName, b.fileName].sort());
  });

  it('touches the file on a hit so the age-based cleanup keeps hot prompts, and re-arms the key TTL', async () => {
    const first = await synthesizeToFile(deps, req('Please hold.'));
    const file = path.join(dir, first.fileName);
    const old = (Date.now() - 5 * 3600_000) / 1000;
    utimesSync(file, old, old);
    const key = `${prefix}:${ttsCacheKey({ ...req('Please hold.') })}`;
    await redis.expire(key, 30);
    const fixedNow = Date.now() + 1234;
    const hit = await synthesizeToFile({ ...deps, now: () => fixedNow }, req('Please hold.'));
    expect(hit.cached).toBe(true);
    expect(Math.abs(statSync(file).mtimeMs - fixedNow)).toBeLessThan(1000);
    expect(await redis.ttl(key)).toBeGreaterThan(590);
  });

  it('re-synthesizes when the cached file was deleted, under a new random name', async () => {
    const first = await synthesizeToFile(deps, req('We are closed today.'));
    unlinkSync(path.join(dir, first.fileName));
    const before = fake.requests.length;
    const again = await synthesizeToFile(deps, req('We are closed today.'));
    expect(again.cached).toBe(false);
    expect(again.fileName).not.toBe(first.fileName);
    expect(existsSync(path.join(dir, again.fileName))).toBe(true);
    expect(fake.requests.length).toBe(before + 1);
    expect((await synthesizeToFile(deps, req('We are closed today.'))).cached).toBe(true);
  });

  it('ignores a tampered cache entry that names a path outside the storage dir', async () => {
    const key = `${prefix}:${ttsCacheKey(req('Tampered'))}`;
    await redis.set(key, JSON.stringify({ fileName: '../../etc/passwd', durationMs: 1, sampleRate: 8000 }), 'EX', 60);
    const res = await synthesizeToFile(deps, req('Tampered'));
    expect(res.cached).toBe(false);
    expect(res.fileName).toMatch(/^[A-Za-z0-9_-]{22}\.wav$/);
    expect(JSON.parse((await redis.get(key))!).fileName).toBe(res.fileName);
  });

  it('keeps each backend setting in its own cache entry and stores the native rate', async () => {
    const a = await synthesizeToFile(deps, { ...req('Rate test'), url: fake.ttsUrl, sampleRate: 16000 });
    const b = await synthesizeToFile(deps, { ...req('Rate test'), url: fake.ttsUrl, sampleRate: 8000 });
    expect([a.cached, b.cached]).toEqual([false, false]);
    expect([a.sampleRate, b.sampleRate]).toEqual([16000, 8000]);
    expect(parseWav(readFileSync(path.join(dir, b.fileName))).sampleRate).toBe(8000);
  });

  it('propagates TTS failures without writing files or cache entries', async () => {
    fake.failNext(500);
    await expect(synthesizeToFile(deps, req('Failing text'))).rejects.toMatchObject({ code: 'tts_failed', retryable: true });
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
    expect(await redis.get(`${prefix}:${ttsCacheKey(req('Failing text'))}`)).toBeNull();
  });

  it('still synthesizes when Redis is unavailable (the cache is only an optimisation)', async () => {
    // Stand-in for a client whose commands fail (a real offline ioredis leaves command timers behind).
    const down = () => Promise.reject(new Error('Connection is closed.'));
    const dead = { get: down, set: down, expire: down } as unknown as Redis;
    const res = await synthesizeToFile({ ...deps, redis: dead }, req('Redis is down'));
    expect(res.cached).toBe(false);
    expect(existsSync(path.join(dir, res.fileName))).toBe(true);
  });
});
