/**
 * WebRTC HD through the real server: a werift peer in this process stands in for the browser and
 * talks to a runtime with TRANSPORT_MODE=webrtc_hd over loopback (real Redis, real HTTP, real
 * ICE/DTLS/SRTP/SCTP); Whisper, brain and Kokoro are the project's fakes.
 */
import { createUtteranceMatcher, loadBundledSpeech } from '../../scripts/sim/speech';
import { Capacity, webrtcCapacityPrefix } from '../../src/lib/capacity';
import type { Runtime } from '../../src/runtime';
import { startFakeBrain, type FakeBrain } from '../fakes/fake-brain';
import { startFakeKokoro, type FakeKokoro } from '../fakes/fake-kokoro';
import { startFakeWhisper, type FakeWhisper } from '../fakes/fake-whisper';
import { createHarness, tenantDoc, waitUntil, type Harness } from '../support/call-harness';
import { http, makeOffer, toneShare, WebrtcCaller } from '../support/webrtc-caller';

const ORIGIN = 'http://hd.example.test';
const TENANT = 'hd-tenant';
const GREETING = 'Hello from the HD line.';
const REPLY = 'Sure, Tuesday works. See you then.';
/** Kokoro stand-in voice: a 6 kHz tone plus 440 Hz. 6 kHz survives only a wideband path (8 kHz PCM tops out at 4 kHz). */
const HIGH_HZ = 6000;

function wideTone(text: string): { samples: Int16Array; sampleRate: number } {
  const rate = 48000;
  const n = Math.round((Math.max(300, text.length * 40) / 1000) * rate);
  const s = new Int16Array(n);
  for (let i = 0; i < n; i += 1) s[i] = Math.round(6000 * Math.sin((2 * Math.PI * HIGH_HZ * i) / rate) + 3000 * Math.sin((2 * Math.PI * 440 * i) / rate));
  return { samples: s, sampleRate: rate };
}

describe('WebRTC HD calls through the real server', () => {
  let h: Harness;
  let rt: Runtime;
  let whisper: FakeWhisper;
  let brain: FakeBrain;
  let kokoro: FakeKokoro;
  const speech = loadBundledSpeech();
  const match = createUtteranceMatcher(speech.utterances);
  const heard: (string | undefined)[] = [];
  const hdr = { Origin: ORIGIN };
  // Browser calls count in their own capacity key space.
  let browserCapacity: Capacity;
  const usage = (tenant = TENANT) => browserCapacity.usage(tenant);

  beforeAll(async () => {
    whisper = await startFakeWhisper({
      // Audio that continues an utterance comes with its words so far as the prompt (incremental transcription).
      respond: (wav, req) => {
        const m = match(wav.samples, wav.sampleRate, req.prompt);
        heard.push(m?.sofar);
        return m?.text ?? '';
      },
    });
    brain = await startFakeBrain({ mode: 'sse', script: () => ({ tokens: REPLY.split(/(?<= )/), tokenDelayMs: 2 }) });
    kokoro = await startFakeKokoro({ synthesize: async (text) => wideTone(text) });
    h = await createHarness({
      TRANSPORT_MODE: 'webrtc_hd',
      WEBRTC_ALLOWED_ORIGINS: `${ORIGIN}, https://other.example.test`,
      WHISPER_URL: whisper.transcriptionsUrl,
      BRAIN_URL: brain.url,
      KOKORO_URL: kokoro.speechUrl,
      STT_SILENCE_MS: '500',
      STT_PARTIAL_MIN_MS: '60000',
      DEAD_AIR_MS: '20000',
      // Every request here comes from 127.0.0.1; the per-IP limit has its own tests (webrtc-admission).
      WEBRTC_OFFERS_PER_MIN_PER_IP: '1000',
    });
    rt = await h.start();
    browserCapacity = new Capacity({ redis: h.redis, prefix: webrtcCapacityPrefix(h.env.CAP_PREFIX!) });
    await h.seedTenant(TENANT, '+15557770000', tenantDoc(TENANT, '+15557770000', { greeting: GREETING, tts: { mode: 'kokoro_http', sampleRate: 48000 } }));
  });
  afterAll(async () => {
    await h.close();
    await Promise.all([whisper.close(), brain.close(), kokoro.close()]);
  });

  // Each test starts with no browser call up: a test that fails mid-call must not leave its call
  // (and its capacity slot) to the next one. Hung up over HTTP, then wait for the server's release.
  const callers: WebrtcCaller[] = [];
  const dial = async (tenant = TENANT) => {
    const c = await WebrtcCaller.call(rt.url!, tenant, hdr);
    callers.push(c);
    return c;
  };
  afterEach(async () => {
    for (const c of callers.splice(0)) {
      await http.post(`${rt.url}/v1/webrtc/hangup`, { session_id: c.sessionId }, { headers: hdr });
      await c.close();
    }
    await waitUntil(async () => (await browserCapacity.usage(TENANT)).global === 0, 10_000);
  });

  it('holds a whole call: greeting, caller speech → Whisper → brain → wideband Opus back, transcript, hangup releases the slot', async () => {
    const caller = await dial();
    try {
      expect(caller.sessionId).toMatch(/^webrtc-[0-9a-f-]{36}$/);
      expect((await usage()).tenant).toBe(1);
      await waitUntil(() => caller.connection === 'connected', 10_000);

      // Greeting: synthesized at the tenant's 48 kHz, sent as 20 ms Opus frames, shown on the page.
      await waitUntil(() => caller.agentMs >= 800, 10_000);
      await waitUntil(() => caller.messages.some((m) => m.type === 'transcript' && m.role === 'agent' && m.text === GREETING), 5000);
      expect(caller.messages).toContainEqual({ type: 'status', status: 'agent_speaking' });
      expect(kokoro.requests[0]!.body).toMatchObject({ input: GREETING });
      const greeting = caller.packets.slice(0, 40);
      expect(greeting.every((p) => p.samples === 960)).toBe(true);
      expect(greeting[0]!.marker).toBe(true);
      for (let i = 1; i < greeting.length; i += 1) {
        expect(greeting[i]!.seq).toBe((greeting[i - 1]!.seq + 1) & 0xffff);
        expect(greeting[i]!.timestamp).toBe((greeting[i - 1]!.timestamp + 960) >>> 0);
      }
      // Wideband end to end: the 6 kHz part of the voice arrives (an 8 kHz hop would remove it).
      const pcm = caller.agentPcm();
      const mid = pcm.subarray(4800, 4800 + 24000);
      expect(toneShare(mid, 48000, HIGH_HZ)).toBeGreaterThan(0.3);
      await waitUntil(() => caller.messages.some((m) => m.type === 'status' && m.status === 'listening' && caller.messages.indexOf(m) > 1), 10_000);

      // The caller speaks (bundled espeak utterance at 48 kHz, then silence to end the turn).
      const said = speech.pcmAt(0, 48000);
      const turn = new Int16Array(said.length + 48000);
      turn.set(said, 4800);
      const before = caller.agentMs;
      await caller.speak(turn);
      await waitUntil(() => brain.requests.length >= 1, 10_000);
      expect(heard).toContain(speech.utterances[0]!.text);
      expect(brain.requests[0]!.body).toMatchObject({ tenantId: TENANT, callControlId: caller.sessionId, transcript: speech.utterances[0]!.text });
      await waitUntil(() => caller.messages.some((m) => m.type === 'transcript' && m.role === 'caller' && m.text === speech.utterances[0]!.text), 5000);
      await waitUntil(() => caller.messages.some((m) => m.type === 'transcript' && m.role === 'agent' && m.text.startsWith('Sure')), 10_000);
      await waitUntil(() => caller.agentMs - before >= 1000, 10_000);

      // Hangup over HTTP: the page is told, the slot is released, the session is gone.
      const res = await http.post(`${rt.url}/v1/webrtc/hangup`, { session_id: caller.sessionId }, { headers: hdr });
      expect(res.status).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBe(ORIGIN);
      await waitUntil(async () => (await usage()).tenant === 0, 5000);
      await waitUntil(() => caller.messages.some((m) => m.type === 'ended'), 3000);
      expect(caller.messages.at(-1)).toEqual({ type: 'ended', reason: 'caller_hangup' });
      const again = await http.post(`${rt.url}/v1/webrtc/hangup`, { session_id: caller.sessionId }, { headers: hdr });
      expect(again.status).toBe(404);
      expect(again.data.error).toBe('session_not_found');
    } finally {
      await caller.close();
    }
  });

  it('ends the call on a data-channel hangup and when the browser stops sending audio', async () => {
    const a = await dial();
    const b = await dial();
    try {
      await waitUntil(() => a.connection === 'connected' && b.connection === 'connected', 10_000);
      expect((await usage()).tenant).toBe(2);
      await waitUntil(() => a.dc.readyState === 'open', 5000);
      a.dc.send(JSON.stringify({ type: 'hangup' }));
      await waitUntil(async () => (await usage()).tenant === 1, 5000);
      // b never sends a packet: after MEDIA_STALL_MS the server gives up on it.
      await waitUntil(async () => (await usage()).tenant === 0, 15_000);
      await waitUntil(() => b.messages.some((m) => m.type === 'ended'), 3000);
      expect(b.messages.find((m) => m.type === 'ended')).toEqual({ type: 'ended', reason: 'media_timeout' });
    } finally {
      await a.close();
      await b.close();
    }
  }, 30_000);

  it('refuses a call over the tenant browser-call cap with at_capacity, and admits again once a call ends', async () => {
    const tenant = 'hd-capped';
    await h.seedTenant(tenant, '+15557770001', tenantDoc(tenant, '+15557770001', { webrtc: { maxConcurrentCalls: 1 } }));
    const first = await dial(tenant);
    try {
      await waitUntil(() => first.connection === 'connected', 10_000);
      const { pc, sdp } = await makeOffer();
      const refused = await http.post(`${rt.url}/v1/webrtc/offer`, { tenant_id: tenant, offer: { type: 'offer', sdp } }, { headers: hdr });
      await pc.close();
      expect(refused.status).toBe(503);
      expect(refused.data).toEqual({ error: 'at_capacity', message: expect.stringContaining('capacity') });
      expect((await usage(tenant)).tenant).toBe(1);
      expect((await http.post(`${rt.url}/v1/webrtc/hangup`, { session_id: first.sessionId }, { headers: hdr })).status).toBe(200);
      await waitUntil(async () => (await usage(tenant)).tenant === 0, 5000);
      const next = await dial(tenant);
      await waitUntil(() => next.connection === 'connected', 10_000);
      await http.post(`${rt.url}/v1/webrtc/hangup`, { session_id: next.sessionId }, { headers: hdr });
      await next.close();
    } finally {
      await first.close();
    }
  });

  describe('HTTP contract', () => {
    const offerBody = async () => {
      const { pc, sdp } = await makeOffer();
      await pc.close();
      return { tenant_id: TENANT, offer: { type: 'offer', sdp } };
    };

    it('enforces WEBRTC_ALLOWED_ORIGINS: missing or unlisted Origin → 403 origin_not_allowed', async () => {
      const body = await offerBody();
      for (const headers of [{}, { Origin: 'https://evil.example.test' }, { Origin: 'null' }]) {
        const r = await http.post(`${rt.url}/v1/webrtc/offer`, body, { headers });
        expect(r.status).toBe(403);
        expect(r.data.error).toBe('origin_not_allowed');
        expect(r.headers['access-control-allow-origin']).toBeUndefined();
      }
      const hang = await http.post(`${rt.url}/v1/webrtc/hangup`, { session_id: 'webrtc-00000000-0000-0000-0000-000000000000' }, { headers: { Origin: 'https://evil.example.test' } });
      expect(hang.data.error).toBe('origin_not_allowed');
      expect((await usage()).tenant).toBe(0);
    });

    it('answers CORS preflights for listed origins only', async () => {
      const ok = await http.options(`${rt.url}/v1/webrtc/offer`, { headers: { Origin: 'HTTPS://OTHER.example.test', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' } });
      expect(ok.status).toBe(204);
      expect(ok.headers['access-control-allow-origin']).toBe('HTTPS://OTHER.example.test');
      expect(ok.headers['access-control-allow-methods']).toContain('POST');
      expect(ok.headers['access-control-allow-headers']).toMatch(/content-type/i);
      expect(ok.headers['vary']).toMatch(/origin/i);
      const bad = await http.options(`${rt.url}/v1/webrtc/hangup`, { headers: { Origin: 'https://evil.example.test', 'Access-Control-Request-Method': 'POST' } });
      expect(bad.status).toBe(403);
      expect(bad.data.error).toBe('origin_not_allowed');
      expect(bad.headers['access-control-allow-origin']).toBeUndefined();
    });

    it('maps bad requests to the seed error codes', async () => {
      const post = (body: unknown, headers: Record<string, string> = {}) => http.post(`${rt.url}/v1/webrtc/offer`, body, { headers: { ...hdr, ...headers } });
      const good = await offerBody();
      const cases: [unknown, number, string][] = [
        [{ offer: good.offer }, 400, 'tenant_id_required'],
        [{ ...good, tenant_id: '  ' }, 400, 'tenant_id_required'],
        [{ ...good, tenant_id: 'a/b c' }, 400, 'tenant_id_required'],
        [{ tenant_id: TENANT }, 400, 'invalid_offer'],
        [{ tenant_id: TENANT, offer: { type: 'answer', sdp: good.offer.sdp } }, 400, 'invalid_offer'],
        [{ tenant_id: TENANT, offer: { type: 'offer', sdp: 'v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n' } }, 400, 'invalid_offer'],
        [{ tenant_id: TENANT, offer: { type: 'offer', sdp: 'v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\ngarbage\r\n' } }, 400, 'invalid_offer'],
        [{ ...good, tenant_id: 'no-such-tenant' }, 403, 'call_refused'],
      ];
      for (const [body, status, error] of cases) {
        const r = await post(body);
        expect({ body, status: r.status, error: r.data.error }).toEqual({ body, status, error });
        expect(typeof r.data.message).toBe('string');
        expect(r.headers['access-control-allow-origin']).toBe(ORIGIN);
      }
      // Bad offers never take a slot.
      expect((await usage()).tenant).toBe(0);
      const text = await http.post(`${rt.url}/v1/webrtc/offer`, JSON.stringify(good), { headers: { ...hdr, 'Content-Type': 'text/plain' } });
      expect(text.status).toBe(415);
      const huge = await post({ ...good, padding: 'x'.repeat(100_000) });
      expect(huge.status).toBe(413);
      expect(huge.data.error).toBe('payload_too_large');
      const noId = await http.post(`${rt.url}/v1/webrtc/hangup`, {}, { headers: hdr });
      expect(noId.data.error).toBe('session_id_required');
    });

    it('serves the call page and its own assets only, with a strict CSP', async () => {
      const page = await http.get(`${rt.url}/hd-call?tenant_id=${TENANT}`);
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      const csp = String(page.headers['content-security-policy']);
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain(`frame-ancestors 'self' ${ORIGIN}`);
      const html = String(page.data);
      expect(html).toContain('Start Call');
      expect(html).toContain('Hang up');
      const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
      expect(refs.length).toBeGreaterThan(0);
      for (const ref of refs) expect(ref).toMatch(/^(\/hd-call\/|data:)/);
      for (const asset of ['/hd-call/hd-call.js', '/hd-call/hd-call.css']) {
        const r = await http.get(`${rt.url}${asset}`);
        expect(r.status).toBe(200);
        expect(String(r.data)).not.toMatch(/https?:\/\//);
      }
      const foreign = await http.get(`${rt.url}/hd-call`, { headers: { Origin: 'https://evil.example.test' } });
      expect(foreign.status).toBe(403);
    });
  });
});
