import { mediaTokenFor } from '../../src/lib/telnyx/media-token';
import type { Runtime } from '../../src/runtime';
import { FakeMediaClient } from '../fakes/fake-media-client';
import { startFakeWhisper, type FakeWhisper } from '../fakes/fake-whisper';
import { RecordingListeners } from '../fakes/recording-listener';
import { createHarness, http, newCallControlId, waitUntil, type Harness } from '../support/call-harness';
import { encodedSpeech, localStreamUrl, placeCall, streamPaced } from '../support/media-harness';

describe('media stream robustness (real server, real Redis)', () => {
  let h: Harness;
  let rt: Runtime;
  let whisper: FakeWhisper;
  const listeners = new RecordingListeners();
  const did = '+15553330000';
  beforeAll(async () => {
    whisper = await startFakeWhisper();
    h = await createHarness({
      WHISPER_URL: whisper.transcriptionsUrl,
      STT_SILENCE_MS: '500',
      STT_PARTIAL_MIN_MS: '60000',
      TELNYX_INGEST_HEALTH_ENABLED: 'false',
      GLOBAL_CONCURRENCY_CAP: '1000',
      TENANT_CONCURRENCY_CAP_DEFAULT: '1000',
      TENANT_CALLS_PER_MIN_CAP_DEFAULT: '1000',
    });
    rt = await h.start({}, { listenerFor: (call) => listeners.for(call.callControlId) });
    await h.seedTenant('robust-tenant', did);
  });
  afterAll(async () => {
    await h.close();
    await whisper.close();
  });

  const metric = async (re: RegExp) => Number(re.exec((await http.get(`${rt.url}/metrics`)).data as string)?.[1] ?? 0);

  it('refuses a wrong or missing token with HTTP 401 on upgrade', async () => {
    const callId = newCallControlId();
    await h.send(rt, 'call.initiated', callId, { to: did });
    const answer = await h.telnyx.waitFor((c) => c.callControlId === callId && c.action === 'answer');
    const good = localStreamUrl(rt, String(answer.body.stream_url));
    const bad = good.replace(/token=[^&]+/, 'token=forged');
    await expect(FakeMediaClient.connect({ url: bad, callControlId: callId, encoding: 'PCMU', sampleRate: 8000 })).rejects.toMatchObject({ status: 401 });
    await expect(FakeMediaClient.connect({ url: good.replace(/\?.*$/, ''), callControlId: callId, encoding: 'PCMU', sampleRate: 8000 })).rejects.toMatchObject({ status: 401 });
    // The token of another call does not open this one.
    const other = newCallControlId();
    const stolen = good.replace(encodeURIComponent(callId), encodeURIComponent(other));
    await expect(FakeMediaClient.connect({ url: stolen, callControlId: other, encoding: 'PCMU', sampleRate: 8000 })).rejects.toMatchObject({ status: 401 });
    // The shared MEDIA_STREAM_TOKEN itself opens nothing, in the query or the header.
    await expect(
      FakeMediaClient.connect({ url: good.replace(/token=[^&]+/, 'token=test-media-token'), callControlId: callId, encoding: 'PCMU', sampleRate: 8000 }),
    ).rejects.toMatchObject({ status: 401 });
    const shared = { 'x-telnyx-streaming-auth-token': 'test-media-token' };
    await expect(
      FakeMediaClient.connect({ url: good.replace(/\?.*$/, ''), headers: shared, callControlId: callId, encoding: 'PCMU', sampleRate: 8000 }),
    ).rejects.toMatchObject({ status: 401 });
    // The call's own token is also accepted in the Telnyx auth header.
    const viaHeader = await FakeMediaClient.connect({
      url: good.replace(/\?.*$/, ''),
      headers: { 'x-telnyx-streaming-auth-token': mediaTokenFor('test-media-token', callId) },
      callControlId: callId,
      encoding: 'PCMU',
      sampleRate: 8000,
    });
    await viaHeader.close();
    await h.send(rt, 'call.hangup', callId, { to: did });
  });

  it('closes the stream of an unknown call with 1008', async () => {
    const callId = newCallControlId();
    const client = await FakeMediaClient.connect({
      url: `${rt.url!.replace('http', 'ws')}/v1/telnyx/media/${encodeURIComponent(callId)}?token=${mediaTokenFor('test-media-token', callId)}`,
      callControlId: callId,
      encoding: 'PCMU',
      sampleRate: 8000,
    });
    expect(await client.waitClosed()).toBe(1008);
    expect(client.closeReason).toBe('unknown call');
  });

  it('survives garbage frames and keeps transcribing the call', async () => {
    const before = whisper.requests.length;
    const invalidBefore = await metric(/media_frames_total\{outcome="invalid"\} (\d+)/);
    const callId = newCallControlId();
    const speech = encodedSpeech('PCMU', 8000); // before the call: see media-ingest
    const client = await placeCall(h, rt, callId, did, { encoding: 'PCMU', sampleRate: 8000 });
    for (const junk of ['not json', '{"event":"media","media":{"payload":"!!!not base64!!!"}}', '[1,2,3]', '{"no":"event"}', '{"event":"media"}', '{"event":"weird_new_event"}']) {
      client.sendRaw(junk);
    }
    client.ws.send(Buffer.from([0xde, 0xad, 0xbe, 0xef]), { binary: true });
    await streamPaced(rt, callId, client, speech);
    await waitUntil(() => whisper.requests.length >= before + 2 && listeners.of(callId, 'final').length === 2, 15_000);
    expect(client.closeCode).toBeUndefined(); // still open
    expect(await metric(/media_frames_total\{outcome="invalid"\} (\d+)/)).toBeGreaterThanOrEqual(invalidBefore + 5);
    expect(listeners.of(callId, 'final')).toHaveLength(2);
    await client.close();
    await h.send(rt, 'call.hangup', callId, { to: did });
  });

  it('a dropped socket ends only that session; other calls keep streaming', async () => {
    const a = newCallControlId();
    const b = newCallControlId();
    const speech = encodedSpeech('PCMU', 8000);
    const ca = await placeCall(h, rt, a, did, { encoding: 'PCMU', sampleRate: 8000 });
    const cb = await placeCall(h, rt, b, did, { encoding: 'PCMU', sampleRate: 8000 });
    await waitUntil(() => rt.liveCalls!.get(a)?.stream !== undefined && rt.liveCalls!.get(b)?.stream !== undefined);
    ca.ws.terminate(); // no close frame: the TCP connection just dies
    await waitUntil(() => rt.liveCalls!.get(a)?.state.kind === 'orphaned');
    await streamPaced(rt, b, cb, speech);
    await waitUntil(() => listeners.of(b, 'final').length === 2, 15_000);
    await cb.close();
  });

  it('a second stream for the same call replaces the first', async () => {
    const callId = newCallControlId();
    const first = await placeCall(h, rt, callId, did, { encoding: 'PCMU', sampleRate: 8000 });
    await waitUntil(() => rt.liveCalls!.get(callId)?.stream !== undefined);
    const answer = h.telnyx.commands('answer', callId)[0]!;
    const second = await FakeMediaClient.connect({ url: localStreamUrl(rt, String(answer.body.stream_url)), callControlId: callId, encoding: 'PCMU', sampleRate: 8000 });
    second.start();
    expect(await first.waitClosed()).toBe(1000);
    expect(first.closeReason).toMatch(/replaced/);
    await second.close();
  });

  it('a Whisper outage mid-call is reported (sttError) and the call recovers when Whisper returns', async () => {
    const callId = newCallControlId();
    const speech = encodedSpeech('PCMU', 8000);
    const client = await placeCall(h, rt, callId, did, { encoding: 'PCMU', sampleRate: 8000 });
    whisper.down();
    await streamPaced(rt, callId, client, speech);
    await waitUntil(() => listeners.of(callId, 'sttError').length === 2, 20_000);
    whisper.up();
    await streamPaced(rt, callId, client, speech);
    await waitUntil(() => listeners.of(callId, 'final').length === 2, 15_000);
    expect(client.closeCode).toBeUndefined();
    await client.close();
  });
});
