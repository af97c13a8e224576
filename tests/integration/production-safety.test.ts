/**
 * Production refuses what the examples publish: the real entry point (src/main.ts, a child process)
 * booted with .env.example exits naming every placeholder, and with .env.development.example it
 * boots; the shared media token opens no stream; HMAC-signed webhooks need their development switch.
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import dotenv from 'dotenv';
import { EXAMPLE_SECRET_VALUES } from '../../src/lib/production-checks';
import { mediaTokenFor } from '../../src/lib/telnyx/media-token';
import type { Runtime } from '../../src/runtime';
import { FakeMediaClient } from '../fakes/fake-media-client';
import { createHarness, http, newCallControlId, type Harness } from '../support/call-harness';
import { freePort, startRedisServer, type RedisServerHandle } from '../support/redis-server';
import { baseEnv, emptyDir, REPO_ROOT } from '../support/run-script';
import { makeEvent, signHmac } from '../support/telnyx-signing';
import { productionEnv, strongSecret } from '../support/test-config';

jest.setTimeout(90_000);

const MAIN = path.join(REPO_ROOT, 'src', 'main.ts');
/** node --import <tsx loader> main.ts: the child IS the runtime, so a kill reaches it (the tsx CLI would leave it orphaned). */
const NODE_ARGS = ['--import', pathToFileURL(path.join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href, MAIN];
const example = (file: string) => dotenv.parse(readFileSync(path.join(REPO_ROOT, file)));
/** Variables whose value is a secret (or, for the public key, a trust anchor). */
const SECRET_NAME = /KEY|TOKEN|SECRET|PASSWORD/;

interface Boot {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs src/main.ts with exactly `env` in an empty directory (no .env there to load) until it exits;
 * with `onListening`, that runs once it logs "runtime listening", and then it gets SIGTERM.
 */
function boot(env: Record<string, string>, cwd: string, onListening?: (stdout: string) => Promise<void>): Promise<Boot> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, NODE_ARGS, { cwd, env: baseEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let listening = false;
    // A runtime that should have refused to boot, or that does not stop: never outlive the test.
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (!listening && onListening && stdout.includes('"runtime listening"')) {
        listening = true;
        onListening(stdout).then(
          () => child.kill('SIGTERM'),
          (err: unknown) => {
            child.kill('SIGKILL');
            reject(err);
          },
        );
      }
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('the example environments', () => {
  it('keep every secret they publish on the list production refuses', () => {
    for (const file of ['.env.example', '.env.development.example']) {
      const secrets = Object.entries(example(file)).filter(([k, v]) => SECRET_NAME.test(k) && v.trim() !== '' && !/^(true|false)$/.test(v.trim()));
      expect(secrets.length).toBeGreaterThanOrEqual(file === '.env.example' ? 5 : 4);
      for (const [name, value] of secrets) expect({ file, name, listed: EXAMPLE_SECRET_VALUES.includes(value) }).toEqual({ file, name, listed: true });
    }
  });

  it('.env.example is production and the runtime refuses to boot with it, naming each placeholder', async () => {
    const env = example('.env.example');
    expect(env.NODE_ENV).toBe('production');
    const cwd = emptyDir();
    try {
      const r = await boot({ ...env, PORT: '0' }, cwd);
      expect(r.code).toBe(1);
      const named = r.stderr
        .split('\n')
        .filter((l) => l.startsWith('  - '))
        .map((l) => l.slice(4).split(':')[0]);
      expect(named).toEqual(['ADMIN_PASSWORD', 'MEDIA_STREAM_TOKEN', 'METRICS_TOKEN', 'TELNYX_API_KEY', 'TELNYX_PUBLIC_KEY']);
      expect(r.stderr).toMatch(/\.env\.development\.example/);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('production also refuses short secrets and a missing METRICS_TOKEN at boot', async () => {
    const cwd = emptyDir();
    try {
      const r = await boot(
        {
          ...example('.env.example'),
          PORT: '0',
          TELNYX_API_KEY: `KEY${strongSecret()}`,
          TELNYX_PUBLIC_KEY: productionEnv().TELNYX_PUBLIC_KEY!,
          MEDIA_STREAM_TOKEN: 'a'.repeat(31),
          ADMIN_PASSWORD: 'b'.repeat(20),
          METRICS_TOKEN: '',
        },
        cwd,
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/- ADMIN_PASSWORD: too short for production/);
      expect(r.stderr).toMatch(/- MEDIA_STREAM_TOKEN: too short for production/);
      expect(r.stderr).toMatch(/- METRICS_TOKEN: required in production/);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  describe('with a private Redis', () => {
    let redis: RedisServerHandle;
    beforeAll(async () => {
      redis = await startRedisServer();
    });
    afterAll(() => redis.destroy());

    it('.env.development.example boots as-is (only Redis and the port are this machine\'s)', async () => {
      const env = example('.env.development.example');
      expect(env.NODE_ENV).toBe('development');
      const port = await freePort();
      const cwd = emptyDir();
      let ready = 0;
      try {
        const r = await boot({ ...env, PORT: String(port), REDIS_URL: redis.url }, cwd, async () => {
          ready = (await http.get(`http://127.0.0.1:${port}/health/ready`)).status;
        });
        expect(r.stderr).toBe('');
        expect(ready).toBe(200);
        expect(r.code).toBe(0);
      } finally {
        rmSync(cwd, { recursive: true, force: true });
      }
    });
  });
});

describe('media stream auth in production', () => {
  let h: Harness;
  let rt: Runtime;
  const token = strongSecret();
  beforeAll(async () => {
    h = await createHarness();
    // The harness' key pair is fresh and KEY_test is no example value: production accepts them.
    rt = await h.start({ NODE_ENV: 'production', MEDIA_STREAM_TOKEN: token, METRICS_TOKEN: strongSecret() });
  });
  afterAll(() => h.close());

  it('refuses the shared MEDIA_STREAM_TOKEN itself and accepts the call\'s own token', async () => {
    expect(rt.config.NODE_ENV).toBe('production');
    const callId = newCallControlId();
    const base = `${rt.url!.replace('http', 'ws')}/v1/telnyx/media/${encodeURIComponent(callId)}`;
    const media = { callControlId: callId, encoding: 'PCMU', sampleRate: 8000 };
    await expect(FakeMediaClient.connect({ url: `${base}?token=${token}`, ...media })).rejects.toMatchObject({ status: 401 });
    await expect(
      FakeMediaClient.connect({ url: base, headers: { 'x-telnyx-streaming-auth-token': token }, ...media }),
    ).rejects.toMatchObject({ status: 401 });
    // Past auth: the call does not exist, so the socket opens and is closed with 1008.
    const own = await FakeMediaClient.connect({ url: `${base}?token=${mediaTokenFor(token, callId)}`, ...media });
    expect(await own.waitClosed()).toBe(1008);
  });
});

describe('local HMAC webhook scheme', () => {
  const secret = 'hmac-switch-secret';
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ TELNYX_WEBHOOK_SECRET: secret });
  });
  afterAll(() => h.close());

  const postHmac = async (rt: Runtime) => {
    const raw = JSON.stringify(makeEvent('call.initiated', { call_control_id: newCallControlId(), to: '+15550009999' }));
    return http.post(`${rt.url}/v1/telnyx/webhook`, raw, { headers: { 'content-type': 'application/json', ...signHmac(raw, secret) } });
  };

  it('refuses HMAC-signed webhooks while TELNYX_WEBHOOK_HMAC_ENABLED is off, though the secret is set', async () => {
    const rt = await h.start();
    const r = await postHmac(rt);
    expect(r.status).toBe(401);
    expect(r.data).toEqual({ error: 'invalid_signature', message: 'webhook signature rejected: missing_signature' });
  });

  it('accepts them with the switch on', async () => {
    const rt = await h.start({ TELNYX_WEBHOOK_HMAC_ENABLED: 'true' });
    expect((await postHmac(rt)).status).toBe(200);
  });
});

