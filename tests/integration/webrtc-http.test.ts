/**
 * The WebRTC HTTP layer on a real server (port 0) without a runtime: the library failing to load
 * (`webrtc_init_failed`), TRANSPORT_MODE=pstn (`webrtc_disabled`), an empty
 * WEBRTC_ALLOWED_ORIGINS (no Origin check, no CORS grant), and an offer failing after admission
 * (real capacity scripts on the test Redis, a stand-in peer).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import axios from 'axios';
import { createApp } from '../../src/api/app';
import { webrtcRouter, type WebrtcService } from '../../src/api/webrtc';
import { Capacity } from '../../src/lib/capacity';
import { CallAdmission, type CallAdmissionDeps } from '../../src/lib/calls/admission';
import { createMetrics } from '../../src/lib/metrics';
import { closeRedis, createRedis } from '../../src/lib/redis';
import type { Peer } from '../../src/media/webrtc/peer';
import type { Werift } from '../../src/media/webrtc/werift-loader';
import { WebrtcCalls } from '../../src/media/webrtc/webrtc-calls';
import { weriftLoader } from '../../src/media/webrtc/werift-loader';
import { CHROME_OFFER } from '../support/sdp-fixtures';
import { memoryLogger, testRedisUrl } from '../support/test-config';
import { waitUntil } from '../support/call-harness';

const client = axios.create({ validateStatus: () => true, timeout: 5000 });
const SDP = CHROME_OFFER;

/** The browser line's admission with caps of one call (a second needs the first's slot and admission back). */
function browserAdmission(d: Pick<CallAdmissionDeps, 'tenants' | 'capacity' | 'leases' | 'logger'>): CallAdmission {
  return new CallAdmission({ ...d, line: 'webrtc', limitsFor: () => ({ globalMax: 1, tenantMax: 1, tenantPerMinute: 1 }), leaseMs: 60_000, metrics: { denied: () => undefined, active: () => undefined } });
}

/** The browser line's admission for any tenant id (a minimal valid config), leases tracked in `held`. */
function anyTenantAdmission(capacity: Capacity, held: Set<string>, logger: CallAdmissionDeps['logger']): CallAdmission {
  return browserAdmission({
    tenants: {
      resolve: async () => ({ kind: 'not_configured' }),
      byTenantId: async (id) => ({ kind: 'ok', tenantId: id, config: { contractVersion: 'v1', tenantId: id, dids: [], caps: {} } }),
    },
    capacity,
    leases: { add: (id) => void held.add(id), remove: (id) => held.delete(id), get size() { return held.size; } },
    logger,
  });
}

async function serve(router: ReturnType<typeof webrtcRouter>): Promise<{ url: string; close(): Promise<void> }> {
  const { logger } = memoryLogger('silent');
  const server = http.createServer(createApp({ logger, metrics: createMetrics({ defaultMetrics: false }), routers: [router] }));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, close: () => new Promise((r) => server.close(() => r())) };
}

describe('WebRTC routes when werift cannot be loaded', () => {
  let s: { url: string; close(): Promise<void> };
  let loads = 0;
  const tenantLookups: string[] = [];
  beforeAll(async () => {
    const { logger } = memoryLogger('silent');
    const calls = new WebrtcCalls({
      loadLibrary: weriftLoader(async () => {
        loads += 1;
        throw new Error("Cannot find module 'werift'");
      }),
      peerFactory: () => {
        throw new Error('never reached');
      },
      admission: browserAdmission({
        tenants: {
          resolve: async () => ({ kind: 'not_configured' }),
          byTenantId: async (id) => {
            tenantLookups.push(id);
            return { kind: 'not_configured', tenantId: id };
          },
        },
        capacity: { acquire: async () => ({ ok: true, alreadyHeld: false }), release: async () => true, cancel: async () => true },
        leases: { add: () => undefined, remove: () => true, size: 0 },
        logger,
      }),
      requireJoinToken: false,
      maxDurationMs: 60_000,
      media: { conversationFor: () => { throw new Error('never reached'); }, speechFor: () => { throw new Error('never reached'); }, audioStorageDir: '/nonexistent', logger },
      metrics: createMetrics({ defaultMetrics: false }),
      logger,
    });
    s = await serve(webrtcRouter({ calls, allowedOrigins: [] }));
  });
  afterAll(() => s.close());

  it('answers 503 webrtc_init_failed (and tries the import once)', async () => {
    for (let i = 0; i < 2; i += 1) {
      const r = await client.post(`${s.url}/v1/webrtc/offer`, { tenant_id: 'acme', offer: { type: 'offer', sdp: SDP } });
      expect(r.status).toBe(503);
      expect(r.data.error).toBe('webrtc_init_failed');
      expect(r.data.message).toContain('werift');
    }
    expect(loads).toBe(1);
    expect(tenantLookups).toEqual([]);
  });

  it('still validates the request first', async () => {
    const r = await client.post(`${s.url}/v1/webrtc/offer`, { offer: { type: 'offer', sdp: SDP } });
    expect(r.data.error).toBe('tenant_id_required');
  });
});

describe('WebRTC routes with TRANSPORT_MODE=pstn', () => {
  let s: { url: string; close(): Promise<void> };
  beforeAll(async () => {
    s = await serve(webrtcRouter({ calls: undefined, allowedOrigins: ['http://localhost:4001'] }));
  });
  afterAll(() => s.close());

  it.each([
    ['post', '/v1/webrtc/offer'],
    ['post', '/v1/webrtc/hangup'],
    ['get', '/hd-call?tenant_id=acme'],
    ['get', '/hd-call/hd-call.js'],
    ['options', '/v1/webrtc/offer'],
  ] as const)('%s %s → 404 webrtc_disabled, saying how to enable it', async (method, path) => {
    const r = await client.request({ method, url: `${s.url}${path}`, data: method === 'post' ? {} : undefined });
    expect(r.status).toBe(404);
    expect(r.data.error).toBe('webrtc_disabled');
    expect(r.data.message).toContain('TRANSPORT_MODE=webrtc_hd');
  });
});

describe('WebRTC routes with an empty WEBRTC_ALLOWED_ORIGINS', () => {
  let s: { url: string; close(): Promise<void> };
  const offers: string[] = [];
  beforeAll(async () => {
    const calls: WebrtcService = {
      offer: async ({ tenantId, offerSdp }) => {
        offers.push(tenantId);
        return { sessionId: 'webrtc-00000000-0000-0000-0000-000000000001', answerSdp: offerSdp };
      },
      hangup: () => false,
    };
    s = await serve(webrtcRouter({ calls, allowedOrigins: [] }));
  });
  afterAll(() => s.close());

  it('accepts any or no Origin but grants no CORS to other origins', async () => {
    const none = await client.post(`${s.url}/v1/webrtc/offer`, { tenant_id: 'acme', offer: { type: 'offer', sdp: SDP } });
    expect(none.status).toBe(200);
    expect(none.data).toEqual({ session_id: 'webrtc-00000000-0000-0000-0000-000000000001', answer: { type: 'answer', sdp: SDP } });
    const foreign = await client.post(`${s.url}/v1/webrtc/offer`, { tenant_id: 'acme', offer: SDP }, { headers: { Origin: 'https://elsewhere.test' } });
    expect(foreign.status).toBe(200);
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
    expect(offers).toEqual(['acme', 'acme']);
    const pre = await client.options(`${s.url}/v1/webrtc/offer`, { headers: { Origin: 'https://elsewhere.test', 'Access-Control-Request-Method': 'POST' } });
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('serves the page without frame ancestors beyond itself', async () => {
    const r = await client.get(`${s.url}/hd-call?tenant_id=acme`);
    expect(r.status).toBe(200);
    expect(r.headers['content-security-policy']).toContain("frame-ancestors 'self'");
    expect(r.headers['permissions-policy']).toBe('microphone=(self)');
  });
});

describe('an offer that fails after admission', () => {
  const redis = createRedis(testRedisUrl(), 'request');
  const capacity = new Capacity({ redis, prefix: `t${randomBytes(4).toString('hex')}:cap:webrtc` });
  const held = new Set<string>();
  const closed: string[] = [];
  let s: { url: string; close(): Promise<void> };
  beforeAll(async () => {
    const { logger } = memoryLogger('silent');
    const peer = (n: number): Peer => ({ answerSdp: 'v=0\r\n', start: () => undefined, sendAudio: () => undefined, sendChannel: () => false, close: () => closed.push(`peer${n}`) });
    let peers = 0;
    const calls = new WebrtcCalls({
      loadLibrary: weriftLoader(async () => ({ RTCPeerConnection: function RTCPeerConnection() {} }) as unknown as Werift),
      peerFactory: () => async () => peer(++peers),
      // One call per minute: a second attempt is admitted only if the first gave its admission back.
      admission: anyTenantAdmission(capacity, held, logger),
      requireJoinToken: false,
      maxDurationMs: 60_000,
      media: {
        conversationFor: () => {
          throw new Error('conversation could not be built');
        },
        speechFor: () => {
          throw new Error('never reached');
        },
        audioStorageDir: '/nonexistent',
        logger,
      },
      metrics: createMetrics({ defaultMetrics: false }),
      logger,
    });
    s = await serve(webrtcRouter({ calls, allowedOrigins: [] }));
  });
  afterAll(async () => {
    await s.close();
    await closeRedis(redis);
  });

  it('gives back the slot, the per-minute admission, the lease and the peer', async () => {
    for (const n of [1, 2]) {
      const r = await client.post(`${s.url}/v1/webrtc/offer`, { tenant_id: 'acme', offer: { type: 'offer', sdp: SDP } });
      expect(r.status).toBe(500);
      expect(closed).toContain(`peer${n}`);
      await waitUntil(async () => (await capacity.usage('acme')).tenantLastMinute === 0, 5000);
      expect(await capacity.usage('acme')).toEqual({ global: 0, tenant: 0, tenantLastMinute: 0 });
      expect(held.size).toBe(0);
    }
  });
});

describe('a browser call in the call lifecycle', () => {
  const redis = createRedis(testRedisUrl(), 'request');
  const capacity = new Capacity({ redis, prefix: `t${randomBytes(4).toString('hex')}:cap:webrtc` });
  const held = new Set<string>();
  const closed: string[] = [];
  let calls: WebrtcCalls;
  let s: { url: string; close(): Promise<void> };
  /** Every method a no-op: the lifecycle is what is under test, not the conversation or the speech. */
  const inert = <T extends object>(fields: Record<string, unknown> = {}): T =>
    new Proxy(fields, { get: (t, k) => (k in t ? t[k as string] : () => undefined) }) as T;
  beforeAll(async () => {
    const { logger } = memoryLogger('silent');
    const peer: Peer = { answerSdp: 'v=0\r\n', start: () => undefined, sendAudio: () => undefined, sendChannel: () => false, close: () => closed.push('peer') };
    calls = new WebrtcCalls({
      loadLibrary: weriftLoader(async () => ({ RTCPeerConnection: function RTCPeerConnection() {} }) as unknown as Werift),
      peerFactory: () => async () => peer,
      admission: anyTenantAdmission(capacity, held, logger),
      requireJoinToken: false,
      maxDurationMs: 60_000,
      media: { conversationFor: () => inert(), speechFor: () => inert({ inSpeech: false }), audioStorageDir: '/nonexistent', logger },
      metrics: createMetrics({ defaultMetrics: false }),
      logger,
    });
    s = await serve(webrtcRouter({ calls, allowedOrigins: [] }));
  });
  afterAll(async () => {
    await calls.closeAll();
    await s.close();
    await closeRedis(redis);
  });

  it('is active once answered and gives its slot back once when it ends, however often it is ended', async () => {
    const r = await client.post(`${s.url}/v1/webrtc/offer`, { tenant_id: 'acme', offer: { type: 'offer', sdp: SDP } });
    expect(r.status).toBe(200);
    const sessionId = (r.data as { session_id: string }).session_id;
    expect(calls.lifecyclePhaseOf(sessionId)).toBe('active');
    expect((await capacity.usage('acme')).tenant).toBe(1);
    expect(held.size).toBe(1);

    const h = await client.post(`${s.url}/v1/webrtc/hangup`, { session_id: sessionId });
    expect(h.status).toBe(200);
    expect(calls.lifecyclePhaseOf(sessionId)).toBeUndefined();
    expect(calls.hangup(sessionId)).toBe(false);
    await waitUntil(async () => (await capacity.usage('acme')).tenant === 0, 5000);
    expect(held.size).toBe(0);
    expect(closed).toEqual(['peer']);
    // The slot was released, not cancelled: the call still counts in the tenant's calls of the last minute.
    expect(await capacity.usage('acme')).toEqual({ global: 0, tenant: 0, tenantLastMinute: 1 });
  });
});
