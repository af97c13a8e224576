/**
 * Turn-taking on a real runtime (stream mode, real Redis, real media WebSocket), caller speech from
 * espeak-ng streamed in real time: a mid-sentence pause longer than STT_SILENCE_MS is one turn, and a
 * complete sentence is answered well before STT_SILENCE_MS (the end-of-turn rule), unlike with
 * TURN_END_MODE=silence. The Whisper stand-in answers with the words the audio it was sent holds.
 */
import { performance } from 'node:perf_hooks';
import type { Runtime } from '../../src/runtime';
import { startFakeBrain, type FakeBrain } from '../fakes/fake-brain';
import type { FakeMediaClient } from '../fakes/fake-media-client';
import { startFakeWhisper, type FakeWhisper } from '../fakes/fake-whisper';
import { createHarness, newCallControlId, tenantDoc, waitUntil, type Harness } from '../support/call-harness';
import { placeCall } from '../support/media-harness';
import { saidAfter, type SaidSegment } from '../../scripts/sim/said-so-far';
import { silenceFrames, speak, type Spoken } from '../support/spoken';

const silence = silenceFrames;

describe('turn-taking (end of turn from what was said)', () => {
  let h: Harness;
  let whisper: FakeWhisper;
  let brain: FakeBrain;
  let script: SaidSegment[] = [];
  let saying = 0;
  /** When the brain was first asked, per call (performance.now()). */
  const brainAt = new Map<string, number>();
  let part1: Spoken;
  let part2: Spoken;
  let question: Spoken;

  beforeAll(async () => {
    [part1, part2, question] = await Promise.all([speak('I would like to book an appointment for'), speak('tomorrow morning.'), speak('Could I book a table for two tonight?')]);
    whisper = await startFakeWhisper({ respond: (wav, req) => saidAfter(script, saying, wav.samples, wav.sampleRate, req.prompt) });
    brain = await startFakeBrain({
      mode: 'sse',
      script: (body) => {
        brainAt.set(String(body.callControlId), performance.now());
        return { tokens: ['Sure, ', 'done.'], tokenDelayMs: 2 };
      },
    });
    h = await createHarness({
      PLAYBACK_MODE: 'stream',
      WHISPER_URL: whisper.transcriptionsUrl,
      BRAIN_URL: brain.url,
      STT_PARTIAL_MIN_MS: '60000',
      DEAD_AIR_MS: '600000',
      TELNYX_INGEST_HEALTH_ENABLED: 'false',
    });
  }, 30_000);
  afterAll(async () => {
    await h.close();
    await whisper.close();
    await brain.close();
  });

  /** A call on a fresh runtime, greeting heard out. */
  async function call(env: Record<string, string>, did: string): Promise<{ rt: Runtime; client: FakeMediaClient; callId: string }> {
    const rt = await h.start(env);
    await h.seedTenant(`t${did}`, did, tenantDoc(`t${did}`, did, { greeting: 'Hi.' }));
    const callId = newCallControlId();
    const client = await placeCall(h, rt, callId, did, { encoding: 'PCMU', sampleRate: 8000 });
    const quietSince = () => performance.now() - Math.max(0, ...client.received.filter((m) => m.event === 'media').map((m) => m.at));
    await waitUntil(() => client.received.some((m) => m.event === 'media') && quietSince() > 300);
    return { rt, client, callId };
  }

  const brainFor = (callId: string) => brain.requests.filter((r) => r.body.callControlId === callId);

  it('a 900 ms pause mid-sentence (STT_SILENCE_MS 600) is one turn: one brain request with all the words, no agent audio in the pause', async () => {
    const { client, callId } = await call({ STT_SILENCE_MS: '600' }, '+15557770001');
    script = [part1, part2];
    saying = 0;
    await client.stream(part1.frames, { realtime: true });
    const pauseFrom = performance.now();
    await client.stream(silence(900), { realtime: true });
    saying = 1;
    const pauseTo = performance.now();
    await client.stream([...part2.frames, ...silence(1000)], { realtime: true });
    await waitUntil(() => brainFor(callId).length > 0 && client.received.some((m) => m.event === 'media' && m.at > pauseTo), 8000);
    // The reply is streaming: any second turn would have been asked for by now (the caller went quiet 1 s ago).
    expect(brainFor(callId).map((r) => r.body.transcript)).toEqual(['I would like to book an appointment for tomorrow morning.']);
    expect(client.received.filter((m) => m.event === 'media' && m.at > pauseFrom && m.at < pauseTo)).toHaveLength(0);
    client.stop();
    await client.close();
  }, 30_000);

  it('a complete sentence is answered well before STT_SILENCE_MS; with TURN_END_MODE=silence it waits it out', async () => {
    const lag = async (env: Record<string, string>, did: string): Promise<number> => {
      const { client, callId } = await call({ STT_SILENCE_MS: '1500', ...env }, did);
      script = [question];
      saying = 0;
      await client.stream(question.frames, { realtime: true });
      const lastFrameAt = performance.now();
      await client.stream(silence(2000), { realtime: true });
      await waitUntil(() => brainAt.has(callId), 5000);
      expect(brainFor(callId).map((r) => r.body.transcript)).toEqual(['Could I book a table for two tonight?']);
      client.stop();
      await client.close();
      return brainAt.get(callId)! - lastFrameAt;
    };
    // The rule: ~120 ms to notice the pause + the transcript + 200 ms. The silence rule: 1 500 ms.
    expect(await lag({}, '+15557770002')).toBeLessThan(900);
    expect(await lag({ TURN_END_MODE: 'silence' }, '+15557770003')).toBeGreaterThanOrEqual(1400);
  }, 30_000);
});
