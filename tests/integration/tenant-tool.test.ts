/**
 * `npm run tenant` (scripts/tenant.ts) as a child process against the private test Redis with a unique
 * TENANTMAP_PREFIX: add/show/list/caps/remove, DID conflicts, invalid input, and that what it writes is
 * what the runtime reads (TenantResolver, resolveTenantLimits).
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { resolveTenantLimits } from '../../src/lib/capacity';
import { createUrlPolicy } from '../../src/lib/net/url-policy';
import { closeRedis, createRedis } from '../../src/lib/redis';
import { TenantResolver } from '../../src/lib/tenants/tenant-resolver';
import { verifyJoinToken } from '../../src/lib/webrtc/join-token';
import { emptyDir, runScript, script, TSX, type ScriptResult } from '../support/run-script';
import { testRedisUrl } from '../support/test-config';

jest.setTimeout(120_000);

describe('npm run tenant', () => {
  const id = randomBytes(4).toString('hex');
  const prefix = `t${id}:tenantmap`;
  const acme = `acme-${id}`;
  const other = `other-${id}`;
  let redis: Redis;
  // The local Whisper/Kokoro URLs below are loopback: allowlisted as an operator would.
  const LOCAL_HOSTS = '127.0.0.1';
  const urlPolicy = createUrlPolicy([LOCAL_HOSTS]);
  const env = () => ({ REDIS_URL: testRedisUrl(), TENANTMAP_PREFIX: prefix, TENANT_URL_ALLOWED_HOSTS: LOCAL_HOSTS });
  const tenant = (...args: string[]) => runScript(TSX, [script('tenant.ts'), ...args], { env: env() });

  /** Independent invocations, a few at a time (each child is a whole Node + tsx start). */
  const inBatches = async (size: number, calls: string[][]) => {
    const out: ScriptResult[] = [];
    for (let i = 0; i < calls.length; i += size) out.push(...(await Promise.all(calls.slice(i, i + size).map((a) => tenant(...a)))));
    return out;
  };

  beforeAll(() => {
    redis = createRedis(testRedisUrl(), 'request');
  });
  afterAll(async () => {
    await redis.del(`tenantcfg:${acme}`, `tenantcfg:${other}`, `tenantcfg:hd-${id}`);
    await closeRedis(redis);
  });

  it('adds a tenant from flags: validated config, normalized DIDs; the runtime resolves it', async () => {
    const r = await tenant(
      'add', acme, '--did', '+1 (555) 010-1001', '--did', '+1.555.010.1002',
      '--greeting', 'Thanks for calling Acme', '--max-concurrent', '5', '--max-per-minute', '30',
      '--whisper-url', 'http://127.0.0.1:9000/v1/audio/transcriptions', '--kokoro-url', 'http://127.0.0.1:8880/v1/audio/speech', '--voice', 'af_bella',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(`added tenant ${acme}`);
    expect(await redis.get(`${prefix}:did:+15550101001`)).toBe(acme);
    expect(await redis.get(`${prefix}:did:+15550101002`)).toBe(acme);
    expect(JSON.parse((await redis.get(`tenantcfg:${acme}`))!)).toEqual({
      contractVersion: 'v1',
      tenantId: acme,
      dids: ['+15550101001', '+15550101002'],
      caps: { maxConcurrentCallsTenant: 5, maxCallsPerMinuteTenant: 30 },
      stt: { mode: 'whisper_http', whisperUrl: 'http://127.0.0.1:9000/v1/audio/transcriptions' },
      tts: { mode: 'kokoro_http', kokoroUrl: 'http://127.0.0.1:8880/v1/audio/speech', voice: 'af_bella' },
      greeting: 'Thanks for calling Acme',
    });
    const resolved = await new TenantResolver(redis, prefix, 0, Date.now, urlPolicy).resolve('+15550101002');
    expect(resolved).toMatchObject({ kind: 'ok', tenantId: acme, config: { greeting: 'Thanks for calling Acme' } });
  });

  it('refuses to overwrite an existing tenant without --force', async () => {
    const r = await tenant('add', acme, '--did', '+15550101001');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/already exists.*--force/);
  });

  it('adds a tenant from a --config file, keeping unknown keys', async () => {
    const file = path.join(emptyDir(), 'other.json');
    writeFileSync(
      file,
      JSON.stringify({
        contractVersion: 'v1',
        dids: ['+15550102001'],
        stt: { mode: 'whisper_http', chunkMs: 800 },
        tts: { mode: 'kokoro_http', kokoroUrl: 'http://127.0.0.1:8880/v1/audio/speech' },
        quickReplies: [{ match: ['hours'], reply: 'We are open 9 to 5.' }],
        somethingCustom: { kept: true },
      }),
    );
    const r = await tenant('add', other, '--config', file);
    expect(r.code).toBe(0);
    const doc = JSON.parse((await redis.get(`tenantcfg:${other}`))!) as Record<string, unknown>;
    expect(doc).toMatchObject({ tenantId: other, dids: ['+15550102001'], somethingCustom: { kept: true } });
    expect(await redis.get(`${prefix}:did:+15550102001`)).toBe(other);
  });

  it('refuses a DID mapped to another tenant unless --force, which moves it', async () => {
    const conflict = await tenant('add', `third-${id}`, '--did', '+15550101001');
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toMatch(`+15550101001 → ${acme}`);
    expect(await redis.get(`${prefix}:did:+15550101001`)).toBe(acme);
    expect(await redis.exists(`tenantcfg:third-${id}`)).toBe(0);

    const forced = await tenant('add', other, '--did', '+15550101001', '--config', await otherConfigFile(), '--force');
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(`taken over from ${acme}`);
    expect(await redis.get(`${prefix}:did:+15550101001`)).toBe(other);
    // The loser's document no longer lists the DID.
    expect(JSON.parse((await redis.get(`tenantcfg:${acme}`))!).dids).toEqual(['+15550101002']);
  });

  async function otherConfigFile(): Promise<string> {
    const file = path.join(emptyDir(), 'other.json');
    writeFileSync(file, (await redis.get(`tenantcfg:${other}`))!);
    return file;
  }

  it('shows a tenant by id and by DID, with DIDs and cap overrides', async () => {
    const caps = await tenant('caps', acme, '--concurrency', '25', '--rpm', '120');
    expect(caps.code).toBe(0);
    expect(caps.stdout).toMatch('concurrency=25  rpm=120');
    expect(await redis.get(`${prefix}:tenant:${acme}:cap:concurrency`)).toBe('25');
    expect(await redis.get(`${prefix}:tenant:${acme}:cap:rpm`)).toBe('120');
    const limits = await resolveTenantLimits({
      redis,
      tenantmapPrefix: prefix,
      tenantId: acme,
      tenantCaps: { maxConcurrentCallsTenant: 5, maxCallsPerMinuteTenant: 30 },
      defaults: { globalMax: 100, tenantMax: 10, tenantPerMinute: 60 },
    });
    expect(limits).toEqual({ globalMax: 100, tenantMax: 25, tenantPerMinute: 120 });

    const byId = await tenant('show', acme, '--json');
    expect(byId.code).toBe(0);
    const view = JSON.parse(byId.stdout) as Record<string, unknown>;
    expect(view).toMatchObject({
      tenantId: acme,
      exists: true,
      valid: true,
      dids: ['+15550101002'],
      capOverrides: { concurrency: '25', rpm: '120' },
      config: { greeting: 'Thanks for calling Acme' },
    });

    const byDid = await tenant('show', '+1 555 010 1002');
    expect(byDid.code).toBe(0);
    expect(byDid.stdout).toMatch(`tenant:        ${acme}`);
    expect(byDid.stdout).toMatch('DIDs (mapped): +15550101002');
    expect(byDid.stdout).toMatch('concurrency=25  rpm=120');
    expect(byDid.stdout).toMatch('"greeting": "Thanks for calling Acme"');

    const clear = await tenant('caps', acme, '--rpm', 'none');
    expect(clear.code).toBe(0);
    expect(await redis.exists(`${prefix}:tenant:${acme}:cap:rpm`)).toBe(0);
    expect(await redis.get(`${prefix}:tenant:${acme}:cap:concurrency`)).toBe('25');
  });

  it('lists tenants with their DIDs (SCAN)', async () => {
    const r = await tenant('list', '--json');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { tenantId: string; dids: string[]; config: boolean; valid?: boolean }[];
    expect(rows.find((t) => t.tenantId === acme)).toEqual({ tenantId: acme, dids: ['+15550101002'], config: true, valid: true });
    expect(rows.find((t) => t.tenantId === other)).toEqual({ tenantId: other, dids: ['+15550101001', '+15550102001'], config: true, valid: true });
    const text = await tenant('list');
    expect(text.stdout).toMatch(new RegExp(`${acme} +\\+15550101002`));
    expect(text.stdout).toMatch(new RegExp(`${other} +\\+15550101001, \\+15550102001`));
  });

  it('refuses invalid input with the reasons and writes nothing', async () => {
    const dir = emptyDir();
    const badDoc = path.join(dir, 'bad.json');
    writeFileSync(badDoc, JSON.stringify({ contractVersion: 'v0', tenantId: `bad-${id}`, stt: { mode: 'telepathy' } }));
    const mismatch = path.join(dir, 'mismatch.json');
    writeFileSync(mismatch, JSON.stringify({ contractVersion: 'v1', tenantId: 'someone-else' }));
    const notJson = path.join(dir, 'broken.json');
    writeFileSync(notJson, '{ nope');
    const bad = `bad-${id}`;
    const [badDid, nationalDid, unknownOpt, noValue, badUrl, fileUrl, metadataUrl, invalidDoc, wrongId, brokenJson, noDid, badId, badCaps, unknownCaps, unknownCmd, missing, unmapped] = await inBatches(3, [
      ['add', bad, '--did', 'not-a-number'],
      ['add', bad, '--did', '5551234'],
      ['add', bad, '--did', '+15550103001', '--bogus'],
      ['add', bad, '--did'],
      ['add', bad, '--did', '+15550103001', '--whisper-url', 'nope'],
      ['add', bad, '--did', '+15550103001', '--whisper-url', 'file:///etc/passwd'],
      ['add', bad, '--did', '+15550103001', '--kokoro-url', 'http://169.254.169.254/latest/meta-data'],
      ['add', bad, '--did', '+15550103001', '--config', badDoc],
      ['add', bad, '--did', '+15550103001', '--config', mismatch],
      ['add', bad, '--did', '+15550103001', '--config', notJson],
      ['add', bad],
      ['add', 'has space', '--did', '+15550103001'],
      ['caps', acme, '--concurrency', '0'],
      ['caps', `nobody-${id}`, '--rpm', '5'],
      ['frobnicate'],
      ['show', `nobody-${id}`],
      ['show', '+15559999999'],
    ]);
    expect(badDid.code).toBe(2);
    expect(badDid.stderr).toMatch(/not an E\.164 number.*"not-a-number"/);
    // A national number is refused, not stored as "+5551234" (which no call would ever match).
    expect(nationalDid.code).toBe(2);
    expect(nationalDid.stderr).toMatch(/not an E\.164 number.*"5551234"/);
    expect(unknownOpt.code).toBe(2);
    expect(unknownOpt.stderr).toMatch(/^tenant: unknown option --bogus\n\(npm run tenant -- --help for usage\)/);
    expect(noValue.code).toBe(2);
    expect(noValue.stderr).toMatch(/^tenant: option --did needs a value\n/);
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toMatch(/invalid tenant config[\s\S]*stt\.whisperUrl/);
    expect(fileUrl.code).toBe(2);
    expect(fileUrl.stderr).toMatch('stt.whisperUrl: scheme "file:" is not allowed (http/https only)');
    expect(metadataUrl.code).toBe(2);
    expect(metadataUrl.stderr).toMatch('tts.kokoroUrl: host 169.254.169.254 is link-local (cloud metadata)');
    expect(invalidDoc.code).toBe(2);
    expect(invalidDoc.stderr).toMatch(/contractVersion/);
    expect(invalidDoc.stderr).toMatch(/stt\.mode/);
    expect(wrongId.code).toBe(2);
    expect(wrongId.stderr).toMatch(/does not match/);
    expect(brokenJson.code).toBe(2);
    expect(brokenJson.stderr).toMatch(/not valid JSON/);
    expect(noDid.code).toBe(2);
    expect(noDid.stderr).toMatch(/--did is required/);
    expect(badId.code).toBe(2);
    expect(badId.stderr).toMatch(/invalid tenant id/);
    expect(badCaps.code).toBe(2);
    expect(badCaps.stderr).toMatch(/--concurrency must be a positive integer/);
    expect(unknownCaps.code).toBe(1);
    expect(unknownCaps.stderr).toMatch(/no tenant/);
    expect(unknownCmd.code).toBe(2);
    expect(unknownCmd.stderr).toMatch(/unknown command/);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no tenant/);
    expect(unmapped.code).toBe(1);
    expect(unmapped.stderr).toMatch(/not mapped/);
    expect(await redis.exists(`tenantcfg:${bad}`, `${prefix}:did:+15550103001`, `${prefix}:did:+5551234`, `${prefix}:tenant:nobody-${id}:cap:rpm`)).toBe(0);
  });

  it('refuses loopback service URLs unless TENANT_URL_ALLOWED_HOSTS names the host, as the runtime does', async () => {
    const loop = `loop-${id}`;
    const args = [script('tenant.ts'), 'add', loop, '--did', '+15550104001', '--whisper-url', 'http://127.0.0.1:9000/inference'];
    const r = await runScript(TSX, args, { env: { REDIS_URL: testRedisUrl(), TENANTMAP_PREFIX: prefix } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch('stt.whisperUrl: host 127.0.0.1 is loopback');
    expect(await redis.exists(`tenantcfg:${loop}`, `${prefix}:did:+15550104001`)).toBe(0);
    const badEnv = await runScript(TSX, [script('tenant.ts'), 'list'], { env: { ...env(), TENANT_URL_ALLOWED_HOSTS: 'http://x/' } });
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr).toMatch(/TENANT_URL_ALLOWED_HOSTS: "http:\/\/x\/" is not a host/);
  });

  it('fails clearly without REDIS_URL or when Redis is unreachable', async () => {
    const [noUrl, down] = await Promise.all([
      runScript(TSX, [script('tenant.ts'), 'list'], { env: { TENANTMAP_PREFIX: prefix } }),
      runScript(TSX, [script('tenant.ts'), 'list'], { env: { REDIS_URL: 'redis://127.0.0.1:1' } }),
    ]);
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toMatch(/REDIS_URL: is required/);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/cannot connect to Redis at redis:\/\/127\.0\.0\.1:1/);
  });

  it('mints a WebRTC join token from the tenant secret that the runtime accepts; refuses without a secret', async () => {
    const hd = `hd-${id}`;
    const secret = 'hd-secret-0123456789abcdef';
    await redis.set(`tenantcfg:${hd}`, JSON.stringify({ contractVersion: 'v1', tenantId: hd, webrtc: { requireJoinToken: true, joinTokenSecret: secret } }));
    const [ok, noSecret, tooLong] = await Promise.all([
      tenant('webrtc-token', hd, '--origin', 'https://shop.example.com', '--ttl', '120'),
      tenant('webrtc-token', acme),
      tenant('webrtc-token', hd, '--ttl', '3600'),
    ]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const token = ok.stdout.trim();
    expect(token).toMatch(/^v1\.\d+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(verifyJoinToken({ token, secret, tenantId: hd, origin: 'https://shop.example.com', now: Date.now() })).toBe('ok');
    expect(verifyJoinToken({ token, secret, tenantId: hd, now: Date.now() + 121_000, origin: 'https://shop.example.com' })).toBe('expired');
    expect(noSecret.code).toBe(1);
    expect(noSecret.stderr).toMatch(/no webrtc\.joinTokenSecret/);
    expect(tooLong.code).toBe(2);
    expect(tooLong.stderr).toMatch(/at most 300 seconds/);
  });

  it('removes a tenant: config, DID mappings and cap overrides', async () => {
    const r = await tenant('remove', acme);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch('1 DID mapping (+15550101002), 1 cap override');
    expect(await redis.exists(`tenantcfg:${acme}`, `${prefix}:did:+15550101002`, `${prefix}:tenant:${acme}:cap:concurrency`)).toBe(0);
    // The other tenant's mappings are untouched.
    expect(await redis.get(`${prefix}:did:+15550101001`)).toBe(other);
    expect((await new TenantResolver(redis, prefix, 0).resolve('+15550101002')).kind).toBe('not_configured');

    const again = await tenant('remove', acme);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/no tenant/);

    expect((await tenant('remove', other)).code).toBe(0);
    const list = JSON.parse((await tenant('list', '--json')).stdout) as { tenantId: string }[];
    expect(list.map((t) => t.tenantId)).not.toEqual(expect.arrayContaining([acme]));
    expect(list.map((t) => t.tenantId)).not.toEqual(expect.arrayContaining([other]));
  });
});
