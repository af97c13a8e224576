import { createCallControlClient, TelnyxCommandError, type CallControlClient } from '../../src/lib/telnyx/call-control-client';
import { startFakeTelnyxApi, type FakeTelnyxApi } from '../fakes/fake-telnyx-api';
import { freePort } from '../support/redis-server';
import { memoryLogger } from '../support/test-config';

const API_KEY = 'KEY_0123456789abcdef_secret';

async function expectCommandError(p: Promise<unknown>): Promise<TelnyxCommandError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TelnyxCommandError);
  return err as TelnyxCommandError;
}

describe('Call Control client against the fake Telnyx API', () => {
  let api: FakeTelnyxApi;
  let client: CallControlClient;
  const mem = memoryLogger('debug');

  beforeAll(async () => {
    api = await startFakeTelnyxApi({ apiKey: API_KEY });
    client = createCallControlClient({ baseUrl: api.baseUrl, apiKey: API_KEY, timeoutMs: 1000, logger: mem.logger });
  });
  afterEach(() => api.reset());
  afterAll(async () => {
    client.close();
    await api.close();
  });

  it('POSTs the command with the bearer key and JSON body, and returns the data', async () => {
    const id = 'v3:abc/def+ghi==';
    const r = await client.send(id, 'answer', { command_id: 'cmd-1', client_state: 'aGk=', stream_url: 'wss://x/y' });
    expect(r).toEqual({ status: 'ok', data: { result: 'ok' } });
    const [cmd] = api.requests;
    expect(cmd).toMatchObject({ callControlId: id, action: 'answer', body: { command_id: 'cmd-1', client_state: 'aGk=', stream_url: 'wss://x/y' } });
    expect(cmd!.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(cmd!.headers['content-type']).toMatch(/^application\/json/);
  });

  it('refuses an action that is not a known Call Control action, without any request (a job edited in the admin UI)', async () => {
    for (const action of ['../../../v2/numbers', 'answer/../../x', 'delete', '']) {
      const err = await expectCommandError(client.send('c1', action as 'answer', {}));
      expect(err).toMatchObject({ code: 'telnyx_bad_command', retryable: false });
    }
    expect(api.requests).toHaveLength(0);
  });

  it('is rejected with 401 (non-retryable) when the key is wrong', async () => {
    const bad = createCallControlClient({ baseUrl: api.baseUrl, apiKey: 'wrong', timeoutMs: 1000 });
    try {
      const err = await expectCommandError(bad.send('c1', 'hangup', {}));
      expect(err).toMatchObject({ code: 'telnyx_unauthorized', httpStatus: 401, retryable: false, telnyxCodes: ['10009'] });
    } finally {
      bad.close();
    }
  });

  it('turns a 500 into a retryable error carrying the Telnyx codes', async () => {
    api.failNext('speak', { status: 500 });
    const err = await expectCommandError(client.send('c1', 'speak', { payload: 'hi' }));
    expect(err).toMatchObject({ code: 'telnyx_server_error', httpStatus: 500, retryable: true, telnyxCodes: ['10007'], action: 'speak' });
    expect(err.retryAfterMs).toBeUndefined();
    // The plan was used up: the next command succeeds.
    expect(await client.send('c1', 'speak', { payload: 'hi' })).toEqual({ status: 'ok', data: { result: 'ok' } });
  });

  it('turns a 429 with Retry-After into a retryable error with retryAfterMs', async () => {
    api.failNext('playback_start', { status: 429, retryAfterSec: 3 });
    const err = await expectCommandError(client.send('c1', 'playback_start', { audio_url: 'http://a/b.wav' }));
    expect(err).toMatchObject({ code: 'telnyx_rate_limited', httpStatus: 429, retryable: true, retryAfterMs: 3000 });
  });

  it('parses an HTTP-date Retry-After on 503', async () => {
    api.failNext('*', { status: 503, retryAfterSec: new Date(Date.now() + 10_000).toUTCString() });
    const err = await expectCommandError(client.send('c1', 'hangup', {}));
    expect(err.retryable).toBe(true);
    expect(err.retryAfterMs).toBeGreaterThan(7000);
    expect(err.retryAfterMs).toBeLessThanOrEqual(10_000);
  });

  it.each([400, 404, 422])('turns a %i (not 90018) into a non-retryable error', async (status) => {
    api.failNext('transfer', { status, body: { errors: [{ code: 90015, title: 'Invalid parameter', detail: 'to is invalid' }] } });
    const err = await expectCommandError(client.send('c1', 'transfer', { to: 'nope' }));
    expect(err).toMatchObject({ code: 'telnyx_rejected', httpStatus: status, retryable: false, telnyxCodes: ['90015'] });
    expect(err.message).toContain('Invalid parameter');
  });

  it('treats 408 as retryable and copes with a non-JSON error body', async () => {
    api.failNext('gather', { status: 408, body: '<html>Request Timeout</html>' });
    const err = await expectCommandError(client.send('c1', 'gather', {}));
    expect(err).toMatchObject({ httpStatus: 408, retryable: true, telnyxCodes: [] });
  });

  it('returns call_ended for 422 / 90018 instead of failing', async () => {
    api.failNext('playback_stop', { status: 422 });
    expect(await client.send('c1', 'playback_stop', { stop: 'all' })).toEqual({ status: 'call_ended' });
    api.endCall('c2');
    expect(await client.send('c2', 'hangup', {})).toEqual({ status: 'call_ended' });
  });

  it('turns a timeout into a retryable error', async () => {
    api.setLatency(400);
    const t0 = performance.now();
    const err = await expectCommandError(client.send('c1', 'answer', {}, { timeoutMs: 100 }));
    expect(performance.now() - t0).toBeLessThan(350);
    expect(err).toMatchObject({ code: 'telnyx_timeout', retryable: true, httpStatus: undefined });
  });

  it('turns a refused connection into a retryable network error', async () => {
    const port = await freePort();
    const dead = createCallControlClient({ baseUrl: `http://127.0.0.1:${port}/v2`, apiKey: API_KEY, timeoutMs: 1000 });
    try {
      const err = await expectCommandError(dead.send('c1', 'answer', {}));
      expect(err).toMatchObject({ code: 'telnyx_network_error', retryable: true });
    } finally {
      dead.close();
    }
  });

  it('does not retry a command the caller aborted', async () => {
    api.setLatency(10_000);
    const ac = new AbortController();
    // Aborted while the API holds the command (it answers only after 10 s).
    const off = api.onCommand(() => {
      off();
      ac.abort();
    });
    const err = await expectCommandError(client.send('c1', 'speak', {}, { signal: ac.signal }));
    expect(err).toMatchObject({ code: 'telnyx_network_error', retryable: false });
  });

  it('reuses keep-alive connections', async () => {
    await client.send('c-keepalive', 'answer', {});
    await client.send('c-keepalive', 'speak', {});
    // Filtered: a late request of an earlier test (timeouts) may still land under load.
    const mine = api.requests.filter((r) => r.callControlId === 'c-keepalive');
    expect(mine.map((r) => r.headers.connection)).toEqual(['keep-alive', 'keep-alive']);
  });

  it('never logs or exposes the API key', async () => {
    api.failNext('*', { status: 500 });
    const err = await expectCommandError(client.send('c1', 'hangup', {}));
    api.setLatency(300);
    const timeoutErr = await expectCommandError(client.send('c1', 'hangup', {}, { timeoutMs: 50 }));
    const everything = JSON.stringify(mem.lines()) + JSON.stringify(err) + err.message + JSON.stringify(timeoutErr) + timeoutErr.message;
    expect(mem.lines().length).toBeGreaterThan(0);
    expect(everything).not.toContain(API_KEY);
    expect(timeoutErr.cause).toBeUndefined();
  });
});

describe('fake Telnyx API', () => {
  let api: FakeTelnyxApi;
  let client: CallControlClient;
  beforeAll(async () => {
    api = await startFakeTelnyxApi();
    client = createCallControlClient({ baseUrl: api.baseUrl, apiKey: api.apiKey, timeoutMs: 1000 });
  });
  afterAll(async () => {
    client.close();
    await api.close();
  });

  it('waitFor resolves on a future command and on one already received', async () => {
    const waiting = api.waitFor((c) => c.action === 'streaming_start');
    await client.send('c9', 'streaming_start', { stream_url: 'wss://h/m' });
    expect((await waiting).body).toEqual({ stream_url: 'wss://h/m' });
    expect((await api.waitFor((c) => c.callControlId === 'c9')).action).toBe('streaming_start');
    await expect(api.waitFor((c) => c.action === 'record_start', 50)).rejects.toThrow(/no matching command/);
  });

  it('ends the call after a hangup, as Telnyx does', async () => {
    expect((await client.send('c10', 'hangup', {})).status).toBe('ok');
    expect(await client.send('c10', 'hangup', {})).toEqual({ status: 'call_ended' });
    expect(api.commands('hangup', 'c10').map((c) => c.status)).toEqual([200, 422]);
  });

  it('plans failures in order, `times` at a time', async () => {
    api.failNext('answer', { status: 500, times: 2 });
    api.failNext('answer', { status: 429 });
    const statuses: (number | undefined)[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push(await client.send('c11', 'answer', {}).then(() => 200, (e: TelnyxCommandError) => e.httpStatus));
    }
    expect(statuses).toEqual([500, 500, 429, 200]);
  });

  it('runs the onAction hook after successful commands', async () => {
    const seen: string[] = [];
    api.setOnAction((cmd) => {
      seen.push(`${cmd.action}:${cmd.callControlId}`);
    });
    await client.send('c12', 'answer', {});
    api.failNext('speak', { status: 500 });
    await client.send('c12', 'speak', {}).catch(() => undefined);
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual(['answer:c12']);
    api.setOnAction(undefined);
  });
});
