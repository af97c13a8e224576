/**
 * `npm run load-test` (scripts/load-test.ts) as a child process against a real runtime booted in this
 * process (real HTTP, real Redis, fake Telnyx API + Kokoro): signed requests succeed, a wrong key is
 * counted as failures (401) and fails the run, and the call.initiated/call.hangup pairs leak no capacity.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Runtime } from '../../src/runtime';
import { createHarness, waitUntil, type Harness } from '../support/call-harness';
import { emptyDir, runScript, script, TSX } from '../support/run-script';
import { generateTestKeyPair } from '../support/telnyx-signing';
import type { LoadTestResult } from '../../scripts/load-test';

jest.setTimeout(90_000);

const DID = '+15557001234';
const HMAC_SECRET = 'load-test-secret';

function resultOf(stdout: string): LoadTestResult {
  const line = stdout.split('\n').find((l) => l.startsWith('LOAD_TEST_RESULT '));
  if (!line) throw new Error(`no LOAD_TEST_RESULT line in:\n${stdout}`);
  return JSON.parse(line.slice('LOAD_TEST_RESULT '.length)) as LoadTestResult;
}

describe('npm run load-test against a real runtime', () => {
  let h: Harness;
  let rt: Runtime;
  let url: string;
  const tenantId = `load-tenant-${Date.now()}`;

  beforeAll(async () => {
    h = await createHarness({
      TELNYX_WEBHOOK_SECRET: HMAC_SECRET,
      TELNYX_WEBHOOK_HMAC_ENABLED: 'true',
      GLOBAL_CONCURRENCY_CAP: '100000',
      TENANT_CONCURRENCY_CAP_DEFAULT: '100000',
      TENANT_CALLS_PER_MIN_CAP_DEFAULT: '100000',
    });
    rt = await h.start();
    url = `${rt.url}/v1/telnyx/webhook`;
    await h.seedTenant(tenantId, DID);
  });
  afterAll(() => h.close());

  const seedB64 = (k: Harness['keys']) => Buffer.from(k.privateKey.export({ format: 'jwk' }).d!, 'base64url').toString('base64');
  const loadTest = (args: string[], env: Record<string, string | undefined> = {}) =>
    runScript(TSX, [script('load-test.ts'), '--url', url, '--to', DID, ...args], { env, timeoutMs: 60_000 });

  it('sends Ed25519-signed call.initiated/call.hangup pairs that all succeed, and leaves no capacity in use', async () => {
    const r = await loadTest(['--duration', '2', '--concurrency', '4', '--rps', '100', '--private-key', seedB64(h.keys)]);
    expect(r.stderr).not.toMatch(/warning|error/i);
    expect(r.code).toBe(0);
    const res = resultOf(r.stdout);
    expect(res.requests).toBeGreaterThan(50);
    expect(res.succeeded).toBe(res.requests);
    expect(res.failed).toBe(0);
    expect(res.statuses).toEqual({ '200': res.requests });
    expect(res.hangups).toBe(res.initiated);
    expect(res.unconfirmedHangups).toBe(0);
    expect(res.pass).toBe(true);
    // Paced to ~100 req/s (2 s): well below what an unpaced run does.
    expect(res.requests).toBeLessThanOrEqual(220);
    expect(r.stdout).toMatch(/req\/s/);
    expect(r.stdout).toMatch(/Status: +200 × \d+/);
    expect(r.stdout).toMatch(/Latency: +p50 [\d.]+ ms +p95 [\d.]+ ms +p99 [\d.]+ ms +max [\d.]+ ms/);
    expect(r.stdout).toMatch(`Ed25519 (public key ${h.keys.publicKeyB64})`);

    // Every call was admitted (capacity acquired, counted in the rate window) and released at its hangup.
    await waitUntil(async () => {
      const u = await rt.capacity.usage(tenantId);
      return u.tenantLastMinute === res.initiated && u.tenant === 0 && u.global === 0;
    }, 30_000, 100);
  });

  it('signs with the HMAC secret (TELNYX_WEBHOOK_SECRET) when no private key is given', async () => {
    const r = await loadTest(['--duration', '1', '--concurrency', '2', '--rps', '50'], { TELNYX_WEBHOOK_SECRET: HMAC_SECRET });
    expect(r.code).toBe(0);
    const res = resultOf(r.stdout);
    expect(res.requests).toBeGreaterThan(10);
    expect(res.statuses).toEqual({ '200': res.requests });
    expect(r.stdout).toMatch('signing HMAC');
  });

  it('counts 401s (a key the runtime does not know) as failures and exits 1', async () => {
    const wrong = generateTestKeyPair();
    const pem = path.join(emptyDir(), 'wrong.pem');
    writeFileSync(pem, wrong.privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const before = await rt.capacity.usage(tenantId);
    const r = await loadTest(['--duration', '1', '--concurrency', '2', '--rps', '50', '--private-key', pem]);
    expect(r.code).toBe(1);
    const res = resultOf(r.stdout);
    expect(res.requests).toBeGreaterThan(10);
    expect(res.succeeded).toBe(0);
    expect(res.failed).toBe(res.requests);
    expect(res.statuses).toEqual({ '401': res.requests });
    expect(res.errorRate).toBe(1);
    expect(res.pass).toBe(false);
    expect(r.stdout).toMatch(/Result: +FAIL/);
    expect(r.stdout).toMatch(/Hint: 401/);
    // Nothing was admitted.
    expect((await rt.capacity.usage(tenantId)).tenantLastMinute).toBeLessThanOrEqual(before.tenantLastMinute);
  });

  it('fails with a clear message when it has no key to sign with', async () => {
    const r = await loadTest(['--duration', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no signing key/);
    expect(r.stderr).toMatch(/--private-key/);
    expect(r.stderr).toMatch(/TELNYX_WEBHOOK_SECRET/);
    expect(r.stdout).not.toMatch(/LOAD_TEST_RESULT/);
  });

  it('refuses a malformed private key and bad options', async () => {
    const bad = await loadTest(['--private-key', 'not-a-key!']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/cannot read the Ed25519 private key/);
    const opt = await loadTest(['--concurrency', 'zero'], { TELNYX_WEBHOOK_SECRET: HMAC_SECRET });
    expect(opt.code).toBe(2);
    expect(opt.stderr).toMatch(/--concurrency must be a positive integer/);
  });
});
