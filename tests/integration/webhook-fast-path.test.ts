/**
 * The webhook fast path (api/webhook-fast-path.ts) answers exactly as the Express route does. The same
 * request goes to `/v1/telnyx/webhook` (fast path) and to `/v1/telnyx/webhook?via=express` (a query
 * string: the fast path leaves it to Express), and both answers must match. Requests the fast path
 * declines (compressed, oversized, chunked) still get body-parser's answers. Metrics and the aggregated
 * access-log line are kept.
 */
import { gzipSync } from 'node:zlib';
import http from 'node:http';
import { rmSync } from 'node:fs';
import { loadConfig } from '../../src/lib/config';
import { startRuntime, type Runtime } from '../../src/runtime';
import { generateTestKeyPair, makeEvent, newCallControlId, signEd25519 } from '../support/telnyx-signing';
import { memoryLogger, testEnv } from '../support/test-config';
import { startFakeTelnyxApi, type FakeTelnyxApi } from '../fakes/fake-telnyx-api';

const FAST = '/v1/telnyx/webhook';
const VIA_EXPRESS = '/v1/telnyx/webhook?via=express';

interface Answer {
  status: number;
  body: unknown;
  headers: http.IncomingHttpHeaders;
}

describe('webhook fast path', () => {
  const keys = generateTestKeyPair();
  let telnyx: FakeTelnyxApi;
  let env: Record<string, string | undefined>;
  let rt: Runtime;
  let closed = false;
  const log = memoryLogger('info');

  beforeAll(async () => {
    telnyx = await startFakeTelnyxApi();
    env = testEnv({ TELNYX_API_BASE_URL: telnyx.baseUrl, TELNYX_API_KEY: telnyx.apiKey, TELNYX_PUBLIC_KEY: keys.publicKeyB64, PUBLIC_BASE_URL: 'https://voice.example.test' });
    rt = await startRuntime(loadConfig(env), log.logger, { defaultMetrics: false });
  });
  afterAll(async () => {
    if (!closed) await rt?.close();
    await telnyx.close();
    rmSync(env.AUDIO_STORAGE_DIR!, { recursive: true, force: true });
  });

  /** One request on its own connection (node:http, so headers go out exactly as given). */
  function send(path: string, body: Buffer, headers: Record<string, string>): Promise<Answer> {
    const url = new URL(rt.url!);
    return new Promise((resolve, reject) => {
      const req = http.request({ host: url.hostname, port: url.port, path, method: 'POST', headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined, headers: res.headers });
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Headers signing exactly `raw` (any bytes, valid JSON or not). */
  function signRaw(raw: Buffer): Record<string, string> {
    return { 'content-type': 'application/json', ...signEd25519(raw, keys.privateKey) } as Record<string, string>;
  }

  async function both(body: Buffer, headers: Record<string, string>): Promise<[Answer, Answer]> {
    return [await send(FAST, body, headers), await send(VIA_EXPRESS, body, headers)];
  }

  const deep = Buffer.from(`${'['.repeat(40)}${']'.repeat(40)}`);
  const rejects: [string, () => { body: Buffer; headers: Record<string, string> }][] = [
    ['no signature', () => ({ body: Buffer.from('{}'), headers: { 'content-type': 'application/json' } })],
    ['a wrong signature', () => ({ body: Buffer.from('{"a":1}'), headers: { ...signRaw(Buffer.from('{"a":2}')) } })],
    ['signed non-JSON', () => ({ body: Buffer.from('not json'), headers: signRaw(Buffer.from('not json')) })],
    ['signed JSON nested 40 deep', () => ({ body: deep, headers: signRaw(deep) })],
    ['a signed non-envelope', () => ({ body: Buffer.from('{"data":1}'), headers: signRaw(Buffer.from('{"data":1}')) })],
    ['an empty body', () => ({ body: Buffer.alloc(0), headers: signRaw(Buffer.alloc(0)) })],
  ];

  it.each(rejects)('answers %s as the Express route does', async (_name, make) => {
    const { body, headers } = make();
    const [fast, viaExpress] = await both(body, headers);
    expect(fast.status).toBeGreaterThanOrEqual(400);
    expect(fast.status).toBeLessThan(500);
    expect({ status: fast.status, body: fast.body }).toEqual({ status: viaExpress.status, body: viaExpress.body });
    expect(fast.headers['content-type']).toBe(viaExpress.headers['content-type']);
    expect(fast.headers['x-request-id']).toBeTruthy();
  });

  it('accepts a signed event, then answers its redelivery as a duplicate on either route', async () => {
    const event = makeEvent('call.hangup', { call_control_id: newCallControlId() });
    const raw = Buffer.from(JSON.stringify(event));
    const headers = { ...signRaw(raw), 'x-request-id': 'req-fast-1' };
    const first = await send(FAST, raw, headers);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ received: true, outcome: 'accepted' });
    expect(first.headers['x-request-id']).toBe('req-fast-1');
    expect(first.headers['content-type']).toBe('application/json; charset=utf-8');
    const [again, viaExpress] = await both(raw, signRaw(raw));
    expect(again.body).toEqual({ received: true, outcome: 'duplicate' });
    expect(viaExpress.body).toEqual({ received: true, outcome: 'duplicate' });
  });

  it('leaves compressed, oversized and chunked bodies to body-parser (415, 413, 200)', async () => {
    const gz = gzipSync(Buffer.from('{"data":"x"}'));
    expect((await send(FAST, gz, { ...signRaw(gz), 'content-encoding': 'gzip' })).status).toBe(415);
    const big = Buffer.alloc(300 * 1024, 0x20);
    const tooLarge = await send(FAST, big, signRaw(big));
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body).toEqual({ error: 'payload_too_large', message: 'request body exceeds the size limit' });
    const event = Buffer.from(JSON.stringify(makeEvent('call.hangup', { call_control_id: newCallControlId() })));
    const chunked = await send(FAST, event, { ...signRaw(event), 'transfer-encoding': 'chunked' });
    expect(chunked.body).toEqual({ received: true, outcome: 'accepted' });
  });

  it('keeps the route metric and writes the aggregated access-log line', async () => {
    const metrics = await new Promise<string>((resolve, reject) => {
      http.get(`${rt.url}/metrics`, { headers: { authorization: `Bearer ${env.METRICS_TOKEN}` } }, (res) => {
        let s = '';
        res.on('data', (c: Buffer) => (s += c.toString()));
        res.on('end', () => resolve(s));
      }).on('error', reject);
    });
    expect(metrics).toMatch(/http_request_duration_seconds_count\{method="POST",route="\/v1\/telnyx\/webhook",status="200"\} [1-9]/);
    expect(metrics).toMatch(/http_request_duration_seconds_count\{method="POST",route="\/v1\/telnyx\/webhook",status="401"\} [1-9]/);
    // The summary is written every interval and once more at shutdown.
    await rt.close();
    closed = true;
    const summary = log.lines().find((l) => l.msg === 'webhook requests');
    expect(summary).toMatchObject({ route: 'telnyx-webhook' });
    expect((summary!.byStatus as Record<string, number>)['200']).toBeGreaterThanOrEqual(2);
    expect(summary!.requests as number).toBeGreaterThanOrEqual(8);
  });
});
