/**
 * The seed README's scripts, run as an operator runs them: scripts/smoke_webhook.sh and
 * scripts/smoke_media_ws.js against a real runtime booted in this process, and the tunnel scripts'
 * behaviour without the tunnel tool (exit 1 + message) and with a stand-in that prints a public URL.
 */
import { spawn } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Runtime } from '../../src/runtime';
import { createHarness, newCallControlId, waitUntil, type Harness } from '../support/call-harness';
import { baseEnv, emptyDir, runScript, script } from '../support/run-script';

jest.setTimeout(60_000);

const SECRET = 'smoke-secret';
const DID = '+15557002222';

describe('seed README smoke scripts against a real runtime', () => {
  let h: Harness;
  let rt: Runtime;
  let port: string;
  const tenantId = `smoke-tenant-${Date.now()}`;

  beforeAll(async () => {
    h = await createHarness({ TELNYX_WEBHOOK_SECRET: SECRET, TELNYX_WEBHOOK_HMAC_ENABLED: 'true' });
    rt = await h.start();
    port = new URL(rt.url!).port;
    await h.seedTenant(tenantId, DID);
  });
  afterAll(() => h.close());

  const smokeWebhook = (env: Record<string, string | undefined>) =>
    runScript('/bin/bash', [script('smoke_webhook.sh')], {
      env: { WEBHOOK_URL: `${rt.url}/v1/telnyx/webhook`, TO_NUMBER: DID, SMOKE_DELAY: '0.05', ENV_FILE: '/nonexistent', ...env },
    });

  const frames = async (outcome: string) => (await rt.metrics.mediaFrames.get()).values.find((v) => v.labels.outcome === outcome)?.value ?? 0;

  it('smoke_webhook.sh sends signed call.initiated, call.answered, call.hangup and the runtime runs the call', async () => {
    const callId = newCallControlId();
    const r = await smokeWebhook({ TELNYX_WEBHOOK_SECRET: SECRET, CALL_CONTROL_ID: callId });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/call\.initiated +→ 200 \{"received":true,"outcome":"accepted"\}/);
    expect(r.stdout).toMatch(/call\.answered +→ 200 /);
    expect(r.stdout).toMatch(/call\.hangup +→ 200 /);
    expect(r.stdout).toMatch(`smoke_webhook: OK (call_control_id=${callId})`);
    // The events were real: the call was admitted for its tenant (rate window), then ended and released.
    await waitUntil(async () => (await rt.calls.get(callId))?.phase === 'ended');
    const usage = await rt.capacity.usage(tenantId);
    expect(usage.tenantLastMinute).toBeGreaterThanOrEqual(1);
    await waitUntil(async () => (await rt.capacity.usage(tenantId)).tenant === 0);
  });

  it('smoke_webhook.sh exits 1 and says why when the secret is wrong or missing', async () => {
    const wrong = await smokeWebhook({ TELNYX_WEBHOOK_SECRET: 'not-the-secret', EVENTS: 'call.initiated' });
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toMatch(/call\.initiated +→ 401 .*invalid_signature/);
    expect(wrong.stderr).toMatch(/signature rejected/);
    expect(wrong.stderr).toMatch(/FAILED/);

    const missing = await smokeWebhook({});
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/TELNYX_WEBHOOK_SECRET is not set/);

    const down = await smokeWebhook({ TELNYX_WEBHOOK_SECRET: SECRET, WEBHOOK_URL: 'http://127.0.0.1:9/v1/telnyx/webhook', EVENTS: 'call.initiated' });
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(/call\.initiated +→ 000/);
  });

  it('smoke_media_ws.js streams a PCMU tone into an existing call and closes cleanly', async () => {
    const callId = `call_${Date.now()}`;
    const up = await smokeWebhook({ TELNYX_WEBHOOK_SECRET: SECRET, CALL_CONTROL_ID: callId, EVENTS: 'call.initiated call.answered' });
    expect(up.code).toBe(0);
    await waitUntil(async () => (await rt.calls.get(callId)) !== undefined);
    const decodedBefore = await frames('decoded');

    const r = await runScript(process.execPath, [script('smoke_media_ws.js')], {
      env: { MEDIA_STREAM_TOKEN: 'test-media-token', CALL_CONTROL_ID: callId, PORT: port, DURATION_S: '1', LINGER_MS: '300' },
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(`connecting to ws://localhost:${port}/v1/telnyx/media/${callId}?token=***`);
    expect(r.stdout).toMatch('connected; streaming 1 s of a 440 Hz PCMU tone (50 frames of 20 ms)');
    expect(r.stdout).toMatch('sent 50 media frames and stop');
    expect(r.stdout).toMatch(/received in total: /);
    expect(r.stdout).toMatch('closed by us: code 1000 (smoke test done)');
    expect(r.stdout).toMatch('smoke_media_ws: OK');
    // The runtime decoded the tone.
    expect((await frames('decoded')) - decodedBefore).toBeGreaterThanOrEqual(50);

    const down = await smokeWebhook({ TELNYX_WEBHOOK_SECRET: SECRET, CALL_CONTROL_ID: callId, EVENTS: 'call.hangup' });
    expect(down.code).toBe(0);
    await waitUntil(async () => (await rt.capacity.usage(tenantId)).tenant === 0);
  });

  it('smoke_media_ws.js exits 1 with the reason on a bad token or an unknown call', async () => {
    const badToken = await runScript(process.execPath, [script('smoke_media_ws.js')], {
      env: { MEDIA_STREAM_TOKEN: 'wrong', CALL_CONTROL_ID: 'call_x', PORT: port, DURATION_S: '0.2' },
    });
    expect(badToken.code).toBe(1);
    expect(badToken.stderr).toMatch(/HTTP 401.*MEDIA_STREAM_TOKEN/);

    const unknown = await runScript(process.execPath, [script('smoke_media_ws.js')], {
      env: { MEDIA_STREAM_TOKEN: 'test-media-token', CALL_CONTROL_ID: `never-${Date.now()}`, PORT: port, DURATION_S: '2' },
    });
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toMatch(/closed by the server: code 1008/);
    expect(unknown.stderr).toMatch(/send call\.initiated/);

    const noToken = await runScript(process.execPath, [script('smoke_media_ws.js')], { env: { PORT: port } });
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toMatch(/MEDIA_STREAM_TOKEN is not set/);
  });
});

describe('tunnel scripts', () => {
  it.each([
    ['dev_cloudflare.sh', 'cloudflared'],
    ['dev_ngrok.sh', 'ngrok'],
  ])('%s exits 1 with a clear message when %s is not installed', async (file, tool) => {
    const r = await runScript('/bin/bash', [script(file)], { env: { PATH: emptyDir() } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(`error: ${tool} is not installed`);
    expect(r.stderr).toMatch(/Install it: https:\/\//);
  });

  /** A stand-in for the tunnel binary: prints what the real one prints, then stays up. */
  const stubs: Record<string, string> = {
    cloudflared:
      '#!/bin/sh\necho "INF Requesting new quick Tunnel on trycloudflare.com..." >&2\n' +
      'echo "INF |  https://calm-river-test-1234.trycloudflare.com                |" >&2\nexec sleep 30\n',
    ngrok:
      '#!/bin/sh\necho \'t=2024-01-01T00:00:00+0000 lvl=info msg="started tunnel" obj=tunnels name=command_line addr=http://localhost:4005 url=https://ab12-3-4.ngrok-free.app\'\nexec sleep 30\n',
  };

  it.each([
    ['dev_cloudflare.sh', 'cloudflared', 'https://calm-river-test-1234.trycloudflare.com'],
    ['dev_ngrok.sh', 'ngrok', 'https://ab12-3-4.ngrok-free.app'],
  ])('%s prints the webhook URL and the .env settings from the %s output', async (file, tool, publicUrl) => {
    const bin = emptyDir();
    writeFileSync(path.join(bin, tool), stubs[tool]!);
    chmodSync(path.join(bin, tool), 0o755);
    const child = spawn('/bin/bash', [script(file)], {
      cwd: emptyDir(),
      env: baseEnv({ PATH: `${bin}:${process.env.PATH}`, PORT: '4005', AUDIO_PUBLIC_BASE_URL: 'http://localhost:4005/audio' }),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      await waitUntil(() => out.includes('Ctrl-C stops the tunnel'), 15_000, 50);
    } finally {
      // The script and its stand-in tunnel form their own process group: stop exactly that.
      process.kill(-child.pid!, 'SIGTERM');
    }
    await exited;
    expect(out).toMatch(`Public URL: ${publicUrl}  →  http://localhost:4005`);
    expect(out).toMatch(`Webhook URL (API v2):  ${publicUrl}/v1/telnyx/webhook`);
    expect(out).toMatch(`PUBLIC_BASE_URL=${publicUrl}\n`);
    expect(out).toMatch(`AUDIO_PUBLIC_BASE_URL=${publicUrl}/audio\n`);
    expect(out).toMatch(`${publicUrl.replace('https:', 'wss:')}/v1/telnyx/media/<call_control_id>`);
  });

  it('dev_cloudflare.sh exits 1 with the tunnel log when the tunnel dies before printing a URL', async () => {
    const bin = emptyDir();
    writeFileSync(path.join(bin, 'cloudflared'), '#!/bin/sh\necho "ERR failed to request quick Tunnel: 429 Too Many Requests" >&2\nexit 1\n');
    chmodSync(path.join(bin, 'cloudflared'), 0o755);
    const r = await runScript('/bin/bash', [script('dev_cloudflare.sh')], { env: { PATH: `${bin}:${process.env.PATH}` } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cloudflared exited before printing a public URL/);
    expect(r.stderr).toMatch(/429 Too Many Requests/);
  });
});
