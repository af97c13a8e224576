/**
 * What tenant data and brain replies may make the runtime do (real server, real Redis, fake Telnyx,
 * Kokoro and brain): a brain transfer only reaches Telnyx when the tenant config allows the
 * destination, and a tenant config whose service URL points at a file or an internal address
 * gets the "not fully configured" path.
 */
import { loadConfig } from '../../src/lib/config';
import { PHRASES } from '../../src/media/conversation/phrases';
import { startRuntime, type Runtime } from '../../src/runtime';
import { startFakeBrain, type FakeBrain } from '../fakes/fake-brain';
import { expectedDurationMs } from '../fakes/fake-kokoro';
import { createHarness, http, newCallControlId, tenantDoc, waitUntil, type Harness } from '../support/call-harness';
import { connectStream } from '../support/media-harness';
import { memoryLogger } from '../support/test-config';

const DID = '+15554440100';
const BAD_DID = '+15554440101';
const GREETING = 'Hi, Acme here.';
const INJECTED = '+19005550123';

describe('tenant policy (transfers, service URLs)', () => {
  let h: Harness;
  let rt: Runtime;
  let brain: FakeBrain;
  const log = memoryLogger('warn');
  beforeAll(async () => {
    brain = await startFakeBrain({
      mode: 'sse',
      script: () => {
        const n = brain.requests.length;
        // 1: a prompt-injected transfer to a premium number; 2: the tenant's sales line, spelled loosely.
        if (n === 1) return { tokens: ['One moment.'], transfer: { to: INJECTED, audioUrl: 'https://hold.example.com/music.mp3' } };
        return { tokens: ['Connecting you to sales.'], transfer: { to: '+1 (555) 000-1111', audioUrl: 'http://169.254.169.254/latest/meta-data', timeoutSecs: 20 } };
      },
    });
    h = await createHarness({ BRAIN_URL: brain.url, DEAD_AIR_MS: '60000', TELNYX_INGEST_HEALTH_ENABLED: 'false' });
    // One runtime, started here so its warnings can be read.
    rt = await startRuntime(loadConfig(h.env), log.logger, { defaultMetrics: false });
    h.runtimes.push(rt);
    await h.seedTenant(
      'acme',
      DID,
      tenantDoc('acme', DID, {
        greeting: GREETING,
        transferProfiles: [{ name: 'sales', to: '+15550001111' }],
        callForwarding: { enabled: false, destination: INJECTED },
      }),
    );
    await h.seedTenant('leaky', BAD_DID, tenantDoc('leaky', BAD_DID, { stt: { mode: 'whisper_http', chunkMs: 1000, whisperUrl: 'file:///etc/passwd' } }));
  });
  afterAll(async () => {
    await h.close();
    await brain.close();
  });

  it('refuses a brain transfer to a destination the tenant did not configure; an allowed one goes through', async () => {
    const callId = newCallControlId();
    await h.send(rt, 'call.initiated', callId, { to: DID });
    const answer = await h.telnyx.waitFor((c) => c.callControlId === callId && c.action === 'answer');
    await h.send(rt, 'call.answered', callId, { to: DID });
    const client = await connectStream(rt, String(answer.body.stream_url), callId, { encoding: 'PCMU', sampleRate: 8000, playback: true });
    await waitUntil(() => client.agentMs >= expectedDurationMs(GREETING) - 40, 5000);

    // Turn 1: the brain asks for a transfer to a number that is nowhere in the tenant config.
    await h.send(rt, 'call.dtmf.received', callId, { to: DID, digit: '#' });
    await waitUntil(() => h.kokoro.requests.some((r) => r.body.input === PHRASES.transferRefused), 8000);
    const heard = expectedDurationMs(GREETING) + expectedDurationMs('One moment.') + expectedDurationMs(PHRASES.transferRefused);
    await waitUntil(() => client.agentMs >= heard - 100, 8000); // the caller hears the reply, then the refusal
    expect(h.telnyx.commands('transfer')).toEqual([]);
    const warning = log.lines().find((l) => l.msg === 'brain transfer refused: not an allowed destination');
    expect(warning).toMatchObject({ level: 'warn', tenantId: 'acme', callControlId: callId, to: INJECTED });

    // Turn 2: the call went on; the brain is told about the refusal, and an allowed transfer is sent.
    await h.send(rt, 'call.dtmf.received', callId, { to: DID, digit: '#' });
    await waitUntil(() => brain.requests.length >= 2, 8000);
    const history = brain.requests[1]!.body.history as { role: string; content: string }[];
    expect(history.slice(-3)).toEqual([
      { role: 'user', content: '[DTMF #]', timestamp: expect.any(Number) },
      { role: 'assistant', content: 'One moment.', timestamp: expect.any(Number) },
      { role: 'system', content: `transfer to ${INJECTED} refused: not an allowed destination`, timestamp: expect.any(Number) },
    ]);
    const transfer = await h.telnyx.waitFor((c) => c.callControlId === callId && c.action === 'transfer', 8000);
    // The tenant's own destination is sent; the brain's metadata audio URL is dropped.
    expect(transfer.body).toMatchObject({ to: '+15550001111', timeout_secs: 20 });
    expect(transfer.body).not.toHaveProperty('audio_url');
    expect(h.telnyx.commands('transfer')).toHaveLength(1);

    const metrics = (await http.get(`${rt.url}/metrics`)).data as string;
    expect(metrics).toMatch(/transfers_total\{outcome="refused"\} 1/);
    expect(metrics).toMatch(/transfers_total\{outcome="sent"\} 1/);

    client.stop();
    await client.close();
    await h.send(rt, 'call.hangup', callId, { to: DID, hangup_cause: 'normal_clearing' });
    await waitUntil(async () => (await rt.capacity.usage('acme')).tenant === 0);
  });

  it('gives a tenant whose whisperUrl is file:///etc/passwd the "not fully configured" prompt, then hangs up', async () => {
    const callId = newCallControlId();
    await h.send(rt, 'call.initiated', callId, { to: BAD_DID });
    const answer = await h.telnyx.waitFor((c) => c.callControlId === callId && c.action === 'answer');
    expect(answer.body).not.toHaveProperty('stream_url');
    await h.send(rt, 'call.answered', callId, { to: BAD_DID });
    await h.telnyx.waitFor((c) => c.callControlId === callId && c.action === 'playback_start');
    expect(h.kokoro.requests.some((r) => r.body.input === 'This number is not fully configured.')).toBe(true);
    await h.send(rt, 'call.playback.ended', callId, { to: BAD_DID });
    await h.telnyx.waitFor((c) => c.callControlId === callId && c.action === 'hangup');
    expect(h.telnyx.requests.filter((c) => c.callControlId === callId).map((c) => c.action)).toEqual(['answer', 'playback_start', 'hangup']);
    expect((await rt.calls.get(callId))?.reason).toBe('invalid_config');
    const warning = log.lines().find((l) => l.msg === 'tenant config invalid' && l.callControlId === callId);
    expect(warning).toMatchObject({ tenantId: 'leaky', problems: ['stt.whisperUrl: scheme "file:" is not allowed (http/https only)'] });
  });
});
