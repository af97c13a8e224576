import { createHash } from 'node:crypto';
import { mediaTokenFor } from '../../src/lib/telnyx/media-token';
import type { Runtime } from '../../src/runtime';
import { createHarness, http, newCallControlId, tenantDoc, waitUntil, type Harness } from '../support/call-harness';
import { makeEvent, signEd25519, signedWebhook, signHmac } from '../support/telnyx-signing';

const DID = '+15551234567';

describe('call lifecycle (real server, real Redis, fake Telnyx + Kokoro)', () => {
  let h: Harness;
  let rt: Runtime;
  beforeAll(async () => {
    h = await createHarness({ TELNYX_WEBHOOK_SECRET: 'devsecret', TELNYX_WEBHOOK_HMAC_ENABLED: 'true', MAX_CALL_DURATION_MS: '1500' });
    rt = await h.start();
  });
  afterAll(() => h.close());
  beforeEach(() => h.telnyx.reset());

  const answerOf = (callId: string) => h.telnyx.waitFor((c) => c.callControlId === callId && c.action === 'answer');

  it('answers an accepted call with the media stream and releases its slot at hangup', async () => {
    const tenantId = `tenant-${Date.now()}`;
    await h.seedTenant(tenantId, DID);
    const callId = newCallControlId();
    const res = await h.send(rt, 'call.initiated', callId, { to: DID });
    expect(res.status).toBe(200);
    expect(res.data).toEqual({ received: true, outcome: 'accepted' });

    const answer = await answerOf(callId);
    expect(answer.body).toMatchObject({
      stream_url: `wss://voice.example.test/v1/telnyx/media/${encodeURIComponent(callId)}?token=${mediaTokenFor('test-media-token', callId)}`,
      stream_track: 'inbound_track',
      stream_codec: 'PCMU',
      stream_bidirectional_mode: 'rtp',
      stream_bidirectional_codec: 'PCMU',
      stream_bidirectional_target_legs: 'self',
    });
    expect(answer.body).not.toHaveProperty('stream_auth_token');
    expect(answer.body).not.toHaveProperty('stream_bidirectional_sampling_rate');
    expect(typeof answer.body.command_id).toBe('string');
    expect(JSON.parse(Buffer.from(String(answer.body.client_state), 'base64').toString())).toEqual({ tenantId });
    expect(answer.headers.authorization).toBe(`Bearer ${h.telnyx.apiKey}`);
    expect((await rt.capacity.usage(tenantId)).tenant).toBe(1);

    await h.send(rt, 'call.answered', callId, { to: DID });
    await h.send(rt, 'call.hangup', callId, { to: DID, hangup_cause: 'normal_clearing' });
    await waitUntil(async () => (await rt.capacity.usage(tenantId)).tenant === 0);
    await waitUntil(async () => (await rt.calls.get(callId))?.phase === 'ended');
    expect(h.telnyx.commands('hangup', callId)).toHaveLength(0); // the caller hung up: nothing to send
  });

  it.each([
    ['an unmapped number', 'not_configured', 'The number you dialed is not configured.'],
    ['a broken tenant config', 'invalid_config', 'This number is not fully configured.'],
  ])('refuses %s: answers, plays the message, hangs up only after it played', async (_what, kind, text) => {
    const did = `+1555${Math.floor(1e6 + Math.random() * 8e6)}`;
    if (kind === 'invalid_config') {
      await h.redis.set(`${h.env.TENANTMAP_PREFIX}:did:${did}`, 'broken-tenant');
      await h.redis.set('tenantcfg:broken-tenant', JSON.stringify({ contractVersion: 'v0' }));
    }
    const callId = newCallControlId();
    await h.send(rt, 'call.initiated', callId, { to: did });
    const answer = await answerOf(callId);
    expect(answer.body).not.toHaveProperty('stream_url');
    await h.send(rt, 'call.answered', callId, { to: did });
    const playback = await h.telnyx.waitFor((c) => c.callControlId === callId && c.action === 'playback_start');
    expect(String(playback.body.audio_url)).toMatch(/^http:\/\/127\.0\.0\.1:3000\/audio\/[A-Za-z0-9_-]{22}\.wav$/);
    expect(h.kokoro.requests.some((r) => r.body.input === text)).toBe(true);
    // Not hung up while the message plays (the original cut it off).
    await new Promise((r) => setTimeout(r, 300));
    expect(h.telnyx.commands('hangup', callId)).toHaveLength(0);
    await h.send(rt, 'call.playback.ended', callId, { to: did });
    await h.telnyx.waitFor((c) => c.callControlId === callId && c.action === 'hangup');
    const actions = h.telnyx.requests.filter((c) => c.callControlId === callId).map((c) => c.action);
    expect(actions).toEqual(['answer', 'playback_start', 'hangup']);
  });

  it('falls back to Telnyx speak when TTS is down, then hangs up after the speech', async () => {
    // Earlier tests cached this prompt's audio: forget it so synthesis is attempted.
    const cached = await h.redis.keys(`${h.env.STATE_PREFIX}:tts:*`);
    if (cached.length) await h.redis.del(...cached);
    h.kokoro.failNext(500, 2); // both attempts of the prompt job
    const callId = newCallControlId();
    await h.send(rt, 'call.initiated', callId, { to: '+15550009999' });
    await answerOf(callId);
    await h.send(rt, 'call.answered', callId);
    const speak = await h.telnyx.waitFor((c) => c.callControlId === callId && c.action === 'speak');
    expect(speak.body.payload).toBe('The number you dialed is not configured.');
    await h.send(rt, 'call.speak.ended', callId);
    await h.telnyx.waitFor((c) => c.callControlId === callId && c.action === 'hangup');
  });

  it('gives a Redis error during tenant lookup the capacity message, not "not configured"', async () => {
    const did = '+15550007777';
    await h.redis.hset(`${h.env.TENANTMAP_PREFIX}:did:${did}`, 'wrong', 'type'); // GET → WRONGTYPE
    const callId = newCallControlId();
    await h.send(rt, 'call.initiated', callId, { to: did });
    await answerOf(callId);
    await h.send(rt, 'call.answered', callId);
    await h.telnyx.waitFor((c) => c.callControlId === callId && c.action === 'playback_start');
    expect(h.kokoro.requests.at(-1)?.body.input).toBe('We are currently at capacity. Please try again later.');
    expect((await rt.calls.get(callId))?.reason).toBe('capacity_error');
  });

  it('says goodbye and hangs up at MAX_CALL_DURATION_MS', async () => {
    const tenantId = `tenant-max-${Date.now()}`;
    const did = '+15550005555';
    await h.seedTenant(tenantId, did);
    const callId = newCallControlId();
    await h.send(rt, 'call.initiated', callId, { to: did });
    await answerOf(callId);
    await h.send(rt, 'call.answered', callId, { to: did });
    await h.telnyx.waitFor((c) => c.callControlId === callId && c.action === 'playback_start', 8000);
    expect(h.kokoro.requests.at(-1)?.body.input).toMatch(/maximum call length/);
    await h.send(rt, 'call.playback.ended', callId, { to: did });
    await h.telnyx.waitFor((c) => c.callControlId === callId && c.action === 'hangup');
    await h.send(rt, 'call.hangup', callId, { to: did });
    await waitUntil(async () => (await rt.capacity.usage(tenantId)).tenant === 0);
  });

  it('cancels the pending fallback hangup when the caller hangs up during the message', async () => {
    const callId = newCallControlId();
    await h.send(rt, 'call.initiated', callId, { to: '+15550004444' });
    await answerOf(callId);
    await h.send(rt, 'call.answered', callId);
    await h.telnyx.waitFor((c) => c.callControlId === callId && c.action === 'playback_start');
    const fallbackId = `hangup-fallback-${createHash('sha256').update(callId).digest('hex').slice(0, 32)}`;
    expect(await rt.queues.callControl.getJob(fallbackId)).toBeDefined();
    await h.send(rt, 'call.hangup', callId);
    await waitUntil(async () => (await rt.queues.callControl.getJob(fallbackId)) === undefined);
  });

  it('carries on with calls whose record an earlier version wrote, and hangs up once however often the prompt end is reported', async () => {
    // As the earlier CallFlow left a refused call: no hangupRequested field.
    const refusedCall = newCallControlId();
    await h.redis.hset(`${h.env.STATE_PREFIX}:call:${refusedCall}`, {
      phase: 'rejecting', did: '+15550001999', reason: 'not_configured', prompt: 'The number you dialed is not configured.', capHeld: '0', startedAt: String(Date.now()), owner: 'old-instance',
    });
    await h.send(rt, 'call.answered', refusedCall);
    await h.telnyx.waitFor((c) => c.callControlId === refusedCall && c.action === 'playback_start');
    await h.send(rt, 'call.playback.ended', refusedCall);
    await h.telnyx.waitFor((c) => c.callControlId === refusedCall && c.action === 'hangup');
    await h.send(rt, 'call.playback.ended', refusedCall); // another report (its own event id)
    // Both queues drained: the second report was processed and whatever it issued was sent.
    await waitUntil(async () => {
      const [ev, cmd] = await Promise.all([rt.queues.events.getJobCounts('waiting', 'active', 'delayed', 'prioritized'), rt.queues.callControl.getJobCounts('waiting', 'active', 'prioritized')]);
      return [...Object.values(ev), ...Object.values(cmd)].every((n) => n === 0);
    });
    // An accepted call of the earlier version: its slot is released at hangup.
    const tenantId = `tenant-old-${Date.now()}`;
    const acceptedCall = newCallControlId();
    await rt.capacity.acquire(acceptedCall, tenantId, { globalMax: 100, tenantMax: 10, tenantPerMinute: 60 }, 60_000);
    await h.redis.hset(`${h.env.STATE_PREFIX}:call:${acceptedCall}`, {
      phase: 'active', tenantId, did: '+15550001998', capHeld: '1', startedAt: String(Date.now()), owner: 'old-instance',
    });
    await h.send(rt, 'call.hangup', acceptedCall, { hangup_cause: 'normal_clearing' });
    await waitUntil(async () => (await rt.capacity.usage(tenantId)).tenant === 0);
    expect(await rt.calls.get(acceptedCall)).toMatchObject({ phase: 'ended', reason: 'normal_clearing' });
    expect(h.telnyx.commands('hangup', refusedCall)).toHaveLength(1);
  });

  describe('webhook verification and input handling', () => {
    const post = (body: Buffer | string, headers: Record<string, string>) =>
      // Buffers: axios would JSON-encode an invalid JSON string.
      http.post(`${rt.url}/v1/telnyx/webhook`, Buffer.from(body), { headers: { 'content-type': 'application/json', ...headers } });

    it('rejects forged, unsigned and stale webhooks with 401 JSON', async () => {
      const event = makeEvent('call.initiated');
      const { rawBody, headers } = signedWebhook(event, { privateKey: h.keys.privateKey });
      const tampered = Buffer.from(rawBody.toString().replace('+15551234567', '+15559999999'));
      const forged = await post(tampered, headers);
      expect(forged.status).toBe(401);
      expect(forged.data).toEqual({ error: 'invalid_signature', message: 'webhook signature rejected: bad_signature' });
      expect((await post(rawBody, {})).status).toBe(401);
      const stale = signEd25519(rawBody, h.keys.privateKey, Math.floor(Date.now() / 1000) - 301);
      expect((await post(rawBody, stale)).data.message).toMatch(/stale_timestamp/);
      expect(h.telnyx.requests).toHaveLength(0);
    });

    it('accepts the local HMAC scheme on the /webhooks/telnyx alias', async () => {
      const callId = newCallControlId();
      const event = makeEvent('call.initiated', { call_control_id: callId, to: '+15550003333' });
      const raw = JSON.stringify(event);
      const res = await http.post(`${rt.url}/webhooks/telnyx`, raw, { headers: { 'content-type': 'application/json', ...signHmac(raw, 'devsecret') } });
      expect(res.status).toBe(200);
      await answerOf(callId);
    });

    it('processes a redelivered event (same data.id) once', async () => {
      const callId = newCallControlId();
      const id = `evt-${Date.now()}`;
      const first = await h.send(rt, 'call.initiated', callId, { to: '+15550002222' }, { id });
      const second = await h.send(rt, 'call.initiated', callId, { to: '+15550002222' }, { id });
      expect(first.data.outcome).toBe('accepted');
      expect(second.data.outcome).toBe('duplicate');
      await answerOf(callId);
      await new Promise((r) => setTimeout(r, 200));
      expect(h.telnyx.commands('answer', callId)).toHaveLength(1);
    });

    it('answers malformed JSON 400, a bad envelope 400, an oversized body 413, unknown events 200', async () => {
      const sign = (raw: string) => signEd25519(raw, h.keys.privateKey);
      const bad = '{"data":';
      expect((await post(bad, sign(bad))).data).toEqual({ error: 'invalid_json', message: 'request body is not valid JSON' });
      const noType = JSON.stringify({ data: { id: 'x', payload: {} } });
      const r = await post(noType, sign(noType));
      expect(r.status).toBe(400);
      expect(r.data.error).toBe('invalid_envelope');
      const huge = JSON.stringify({ data: { event_type: 'call.initiated', id: 'big', payload: { pad: 'x'.repeat(1_100_000) } } });
      const big = await post(huge, sign(huge));
      expect(big.status).toBe(413);
      expect(big.data.error).toBe('payload_too_large');
      const unknown = JSON.stringify(makeEvent('call.recording.saved'));
      const u = await post(unknown, sign(unknown));
      expect(u.status).toBe(200);
      expect(u.data.outcome).toBe('ignored');
    });
  });

  describe('call-control retries', () => {
    it('retries 5xx with the same command_id until it succeeds', async () => {
      const tenantId = `tenant-retry-${Date.now()}`;
      const did = '+15550001212';
      await h.seedTenant(tenantId, did);
      h.telnyx.failNext('answer', { status: 500, times: 2 });
      const callId = newCallControlId();
      await h.send(rt, 'call.initiated', callId, { to: did });
      await waitUntil(() => h.telnyx.commands('answer', callId).some((c) => c.status === 200), 10_000);
      const attempts = h.telnyx.commands('answer', callId);
      expect(attempts.map((a) => a.status)).toEqual([500, 500, 200]);
      expect(new Set(attempts.map((a) => a.body.command_id)).size).toBe(1);
      await h.send(rt, 'call.hangup', callId, { to: did });
    });

    it('honours Retry-After on 429', async () => {
      const callId = newCallControlId();
      h.telnyx.failNext('answer', { status: 429, retryAfterSec: 1 });
      await h.send(rt, 'call.initiated', callId, { to: '+15550001313' });
      await waitUntil(() => h.telnyx.commands('answer', callId).length === 2, 10_000);
      const [a, b] = h.telnyx.commands('answer', callId);
      expect(b!.at - a!.at).toBeGreaterThanOrEqual(950);
    });

    it('does not retry other 4xx, and treats 422/90018 (call ended) as done', async () => {
      const rejected = /telnyx_command_failures_total\{action="answer",reason="telnyx_rejected"\} (\d+)/;
      const ended = /telnyx_command_duration_seconds_count\{action="answer",outcome="call_ended"\} (\d+)/;
      const counts = async () => {
        const metrics = (await http.get(`${rt.url}/metrics`)).data as string;
        return [rejected, ended].map((re) => Number(re.exec(metrics)?.[1] ?? 0));
      };
      const [rejectedBefore, endedBefore] = await counts();
      const c1 = newCallControlId();
      h.telnyx.failNext('answer', { status: 400 });
      await h.send(rt, 'call.initiated', c1, { to: '+15550001414' });
      const c2 = newCallControlId();
      h.telnyx.failNext('answer', { status: 422 });
      await h.send(rt, 'call.initiated', c2, { to: '+15550001414' });
      await h.telnyx.waitFor((c) => c.callControlId === c2);
      // Both commands reached their final outcome (the runtime's own count of it): a retry would come before.
      await waitUntil(async () => {
        const [r, e] = await counts();
        return r > rejectedBefore! && e > endedBefore!;
      }, 15_000);
      expect(h.telnyx.commands('answer', c1)).toHaveLength(1);
      expect(h.telnyx.commands('answer', c2)).toHaveLength(1);
    });
  });
});

describe('capacity caps across two instances sharing one Redis', () => {
  let h: Harness;
  let a: Runtime;
  let b: Runtime;
  beforeAll(async () => {
    h = await createHarness({ GLOBAL_CONCURRENCY_CAP: '100', TENANT_CONCURRENCY_CAP_DEFAULT: '1' });
    a = await h.start();
    b = await h.start();
  });
  afterAll(() => h.close());

  it('refuses a second concurrent call of a tenant on the other instance, and admits it again after hangup', async () => {
    const tenantId = 'tenant-two-instances';
    const did = '+15550006666';
    await h.seedTenant(tenantId, did, tenantDoc(tenantId, did));
    const c1 = newCallControlId();
    await h.send(a, 'call.initiated', c1, { to: did });
    const ans1 = await h.telnyx.waitFor((c) => c.callControlId === c1 && c.action === 'answer');
    expect(ans1.body).toHaveProperty('stream_url');

    const c2 = newCallControlId();
    await h.send(b, 'call.initiated', c2, { to: did });
    const ans2 = await h.telnyx.waitFor((c) => c.callControlId === c2 && c.action === 'answer');
    expect(ans2.body).not.toHaveProperty('stream_url');
    await h.send(b, 'call.answered', c2, { to: did });
    await h.telnyx.waitFor((c) => c.callControlId === c2 && c.action === 'playback_start');
    expect(h.kokoro.requests.at(-1)?.body.input).toBe('We are currently at capacity. Please try again later.');
    // Either instance may have processed the event: the denial is counted on one of them.
    const scrapes = await Promise.all([a, b].map(async (rt) => (await http.get(`${rt.url}/metrics`)).data as string));
    expect(scrapes.join('\n')).toMatch(/capacity_denials_total\{reason="tenant_concurrency"\} 1/);

    // Hangup delivered to the OTHER instance releases the slot.
    await h.send(b, 'call.hangup', c1, { to: did });
    await waitUntil(async () => (await a.capacity.usage(tenantId)).tenant === 0);
    const c3 = newCallControlId();
    await h.send(b, 'call.initiated', c3, { to: did });
    const ans3 = await h.telnyx.waitFor((c) => c.callControlId === c3 && c.action === 'answer');
    expect(ans3.body).toHaveProperty('stream_url');
  });

  it('processes the events of one call in order when they alternate between instances', async () => {
    // A refused call's flow only works in order: initiated → answered → playback.ended. Each webhook
    // is acknowledged before it is processed, so back-to-back deliveries to different instances
    // overlap in processing; only the per-call order keeps "answered" behind "initiated".
    for (let i = 0; i < 10; i += 1) {
      const callId = newCallControlId();
      await h.send(a, 'call.initiated', callId, { to: '+15550008888' });
      await h.send(b, 'call.answered', callId, { to: '+15550008888' });
      await h.telnyx.waitFor((c) => c.callControlId === callId && c.action === 'playback_start');
      await h.send(a, 'call.playback.ended', callId);
      await h.telnyx.waitFor((c) => c.callControlId === callId && c.action === 'hangup');
      expect(h.telnyx.requests.filter((c) => c.callControlId === callId).map((c) => c.action)).toEqual(['answer', 'playback_start', 'hangup']);
    }
  });
});
