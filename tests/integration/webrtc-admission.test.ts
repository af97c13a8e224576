/**
 * Admission of browser calls on a real runtime (TRANSPORT_MODE=webrtc_hd, real Redis, real HTTP on
 * loopback): POST /v1/webrtc/offer needs no credential, so nothing a stranger sends may cost the
 * tenant's phone line anything, reveal which tenants exist, or get past a tenant's join token.
 * Client addresses are set with X-Forwarded-For (loopback is a trusted proxy by default), one
 * address per test so the per-IP limit of one test never shows in another.
 */
import type { AxiosResponse } from 'axios';
import { Capacity, webrtcCapacityPrefix } from '../../src/lib/capacity';
import { mintJoinToken } from '../../src/lib/webrtc/join-token';
import type { Runtime } from '../../src/runtime';
import { createHarness, http, newCallControlId, tenantDoc, waitUntil, type Harness } from '../support/call-harness';
import { CHROME_OFFER, chromeOfferWith, TWO_LINE_OFFER } from '../support/sdp-fixtures';
import { makeOffer } from '../support/webrtc-caller';

const ORIGIN = 'https://shop.example.test';
const SECRET = 'hd-join-secret-0123456789abcdef';
/** The default WEBRTC_OFFERS_PER_MIN_PER_IP. */
const PER_IP = 10;
/** Passes the cheap SDP checks; werift refuses it (no a=mid), so it fails only once a peer is tried. */
const WERIFT_REFUSED_OFFER = chromeOfferWith({ drop: /^a=mid:/ });

describe('WebRTC admission: a public offer endpoint cannot touch the phone line', () => {
  let h: Harness;
  let rt: Runtime;
  let browser: Capacity;
  let nextIp = 1;
  const newClient = () => `198.51.100.${nextIp++}`;

  const offer = (tenantId: string, sdp: string, client: string, extra: Record<string, unknown> = {}) =>
    http.post(`${rt.url}/v1/webrtc/offer`, { tenant_id: tenantId, offer: { type: 'offer', sdp }, ...extra }, { headers: { Origin: ORIGIN, 'X-Forwarded-For': client } });
  const rawOffer = (tenantId: string, client: string, extra: Record<string, unknown> = {}) =>
    http.post(`${rt.url}/v1/webrtc/offer`, { tenant_id: tenantId, offer: { type: 'offer', sdp: CHROME_OFFER }, ...extra }, { headers: { Origin: ORIGIN, 'X-Forwarded-For': client }, responseType: 'text', transformResponse: (d: unknown) => d });
  const hangup = (sessionId: string) => http.post(`${rt.url}/v1/webrtc/hangup`, { session_id: sessionId }, { headers: { Origin: ORIGIN } });

  /** A real (werift) offer that the runtime can answer; the peer is closed by the caller. */
  async function realOffer(tenantId: string, client: string, extra: Record<string, unknown> = {}): Promise<{ res: AxiosResponse; close(): Promise<void> }> {
    const { pc, sdp } = await makeOffer();
    const res = await offer(tenantId, sdp, client, extra);
    return {
      res,
      close: async () => {
        if (res.status === 200) await hangup(res.data.session_id as string);
        await pc.close();
      },
    };
  }

  /** Sends call.initiated for `did` and says whether the phone call was admitted (answered with the media stream). */
  async function phoneCall(did: string): Promise<{ callId: string; admitted: boolean }> {
    const callId = newCallControlId();
    await h.send(rt, 'call.initiated', callId, { to: did });
    const answer = await h.telnyx.waitFor((c) => c.callControlId === callId && c.action === 'answer');
    return { callId, admitted: typeof answer.body.stream_url === 'string' };
  }

  async function seed(tenantId: string, did: string, extra: Record<string, unknown> = {}): Promise<void> {
    await h.seedTenant(tenantId, did, tenantDoc(tenantId, did, extra));
  }

  beforeAll(async () => {
    h = await createHarness({ TRANSPORT_MODE: 'webrtc_hd', WEBRTC_ALLOWED_ORIGINS: ORIGIN });
    rt = await h.start();
    browser = new Capacity({ redis: h.redis, prefix: webrtcCapacityPrefix(h.env.CAP_PREFIX!) });
  });
  afterAll(() => h.close());

  it('cuts a burst of 61 fake offers from one address off at the per-IP limit (429 + Retry-After), and the phone line still answers', async () => {
    const did = '+15558880001';
    await seed('burst', did);
    const client = newClient();
    const replies = await Promise.all(Array.from({ length: 61 }, () => offer('burst', TWO_LINE_OFFER, client)));
    const statuses = replies.map((r) => r.status);
    expect(statuses.filter((s) => s === 400)).toHaveLength(PER_IP);
    expect(statuses.filter((s) => s === 429)).toHaveLength(61 - PER_IP);
    for (const r of replies.filter((x) => x.status === 429)) {
      expect(r.data).toEqual({ error: 'rate_limited', message: expect.stringMatching(/try again/) });
      expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(r.headers['retry-after'])).toBeLessThanOrEqual(60);
    }
    // Another address is not affected.
    expect((await offer('burst', TWO_LINE_OFFER, newClient())).status).toBe(400);
    // Nothing was admitted anywhere, and a real phone call to the same tenant gets through.
    expect(await rt.capacity.usage('burst')).toEqual({ global: 0, tenant: 0, tenantLastMinute: 0 });
    expect(await browser.usage('burst')).toMatchObject({ tenant: 0, tenantLastMinute: 0 });
    const call = await phoneCall(did);
    expect(call.admitted).toBe(true);
    expect((await rt.capacity.usage('burst')).tenant).toBe(1);
    await h.send(rt, 'call.hangup', call.callId, { to: did, hangup_cause: 'normal_clearing' });
  });

  it('takes no slot and no per-minute budget, phone or browser, for bad offers (refused by the cheap check or by werift)', async () => {
    const did = '+15558880002';
    await seed('bad-sdp', did, { caps: { maxCallsPerMinuteTenant: 2 }, webrtc: { maxCallsPerMinute: 2 } });
    const client = newClient();
    for (const sdp of [TWO_LINE_OFFER, chromeOfferWith({ drop: /^a=rtpmap:111 / }), WERIFT_REFUSED_OFFER, WERIFT_REFUSED_OFFER, WERIFT_REFUSED_OFFER]) {
      const r = await offer('bad-sdp', sdp, client);
      expect({ status: r.status, error: r.data.error }).toEqual({ status: 400, error: 'invalid_offer' });
    }
    expect(await rt.capacity.usage('bad-sdp')).toEqual({ global: 0, tenant: 0, tenantLastMinute: 0 });
    expect(await browser.usage('bad-sdp')).toEqual({ global: 0, tenant: 0, tenantLastMinute: 0 });
    const good = await realOffer('bad-sdp', client);
    try {
      expect(good.res.status).toBe(200);
      expect((await browser.usage('bad-sdp')).tenantLastMinute).toBe(1);
    } finally {
      await good.close();
    }
    expect((await phoneCall(did)).admitted).toBe(true);
  });

  it('answers unknown tenants, broken configs, disabled tenants and missing or bad join tokens byte for byte alike', async () => {
    await seed('open', '+15558880003');
    await seed('disabled', '+15558880004', { webrtc: { enabled: false } });
    await seed('locked', '+15558880005', { webrtc: { requireJoinToken: true, joinTokenSecret: SECRET } });
    await seed('locked-no-secret', '+15558880006', { webrtc: { requireJoinToken: true } });
    await h.redis.set('tenantcfg:broken', JSON.stringify({ contractVersion: 'v0', tenantId: 'broken' }));
    const valid = mintJoinToken({ secret: SECRET, tenantId: 'locked' });
    const [v, exp, nonce, sig] = valid.split('.') as [string, string, string, string];
    const cases: [string, Record<string, unknown>][] = [
      ['no-such-tenant', {}],
      ['no-such-tenant', { join_token: valid }],
      ['broken', {}],
      ['disabled', {}],
      ['locked', {}],
      ['locked', { join_token: 'not-a-token' }],
      ['locked', { join_token: 42 }],
      ['locked', { join_token: mintJoinToken({ secret: SECRET, tenantId: 'locked', now: Date.now() - 600_000 }) }],
      ['locked', { join_token: mintJoinToken({ secret: SECRET, tenantId: 'open' }) }],
      ['locked', { join_token: [v, exp, nonce, sig.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))].join('.') }],
      ['locked-no-secret', { join_token: valid }],
    ];
    const clients = [newClient(), newClient()];
    const seen = new Set<string>();
    for (const [i, [tenantId, extra]] of cases.entries()) {
      // Within the per-IP limit: a fresh address after 8 requests.
      const r = await rawOffer(tenantId, clients[Math.floor(i / 8)]!, extra);
      seen.add(JSON.stringify({ status: r.status, type: r.headers['content-type'], length: r.headers['content-length'], body: r.data }));
    }
    expect(seen.size).toBe(1);
    const [only] = [...seen].map((s) => JSON.parse(s) as { status: number; body: string });
    expect(only!.status).toBe(403);
    expect(JSON.parse(only!.body)).toEqual({ error: 'call_refused', message: expect.any(String) });
    // The tenant that needs no token takes the same offer (so the refusals above are not about the SDP).
    const open = await realOffer('open', newClient());
    await open.close();
    expect(open.res.status).toBe(200);
  });

  it('admits an offer with a valid join token (bound to the page origin or not) and refuses expired, foreign, tampered or wrong-origin ones', async () => {
    await seed('tokened', '+15558880007', { webrtc: { requireJoinToken: true, joinTokenSecret: SECRET } });
    const client = newClient();
    for (const token of [mintJoinToken({ secret: SECRET, tenantId: 'tokened', ttlSec: 60 }), mintJoinToken({ secret: SECRET, tenantId: 'tokened', origin: ORIGIN })]) {
      const ok = await realOffer('tokened', client, { join_token: token });
      await ok.close();
      expect(ok.res.status).toBe(200);
      expect(ok.res.data.session_id).toMatch(/^webrtc-/);
    }
    const good = mintJoinToken({ secret: SECRET, tenantId: 'tokened' });
    const [v, exp, nonce, sig] = good.split('.') as [string, string, string, string];
    const refused = [
      mintJoinToken({ secret: SECRET, tenantId: 'tokened', ttlSec: 1, now: Date.now() - 2000 }),
      mintJoinToken({ secret: SECRET, tenantId: 'someone-else' }),
      mintJoinToken({ secret: 'another-secret-0123456789', tenantId: 'tokened' }),
      [v, String(Number(exp) + 60), nonce, sig].join('.'),
      mintJoinToken({ secret: SECRET, tenantId: 'tokened', origin: 'https://evil.example.test' }),
    ];
    for (const token of refused) {
      const r = await offer('tokened', CHROME_OFFER, client, { join_token: token });
      expect({ status: r.status, error: r.data.error }).toEqual({ status: 403, error: 'call_refused' });
    }
    expect(await browser.usage('tokened')).toMatchObject({ tenant: 0 });
  });

  it('keeps browser and phone caps apart: a full browser cap leaves the phone line open, and a full phone line leaves browser calls open', async () => {
    const did = '+15558880008';
    await seed('split', did, { caps: { maxConcurrentCallsTenant: 1 }, webrtc: { maxConcurrentCalls: 1 } });
    const client = newClient();
    const first = await realOffer('split', client);
    let phone: { callId: string; admitted: boolean } | undefined;
    try {
      expect(first.res.status).toBe(200);
      // The browser cap is full …
      const second = await realOffer('split', client);
      await second.close();
      expect({ status: second.res.status, error: second.res.data.error }).toEqual({ status: 503, error: 'at_capacity' });
      // … and the phone line is not.
      phone = await phoneCall(did);
      expect(phone.admitted).toBe(true);
      expect(await rt.capacity.usage('split')).toMatchObject({ tenant: 1 });
    } finally {
      await first.close();
    }
    await waitUntil(async () => (await browser.usage('split')).tenant === 0, 5000);
    // Now the phone line is full (one call up) and the browser line is free again.
    const third = await realOffer('split', client);
    await third.close();
    expect(third.res.status).toBe(200);
    expect((await phoneCall(did)).admitted).toBe(false);
    await h.send(rt, 'call.hangup', phone.callId, { to: did, hangup_cause: 'normal_clearing' });
  });
});
