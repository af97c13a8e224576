/**
 * The Telnyx simulator against a real runtime (in process, port 0, private Redis): a scripted
 * caller with bundled speech, the STT/TTS/brain stand-ins, both playback modes and several codecs.
 */
import { loadConfig } from '../../src/lib/config';
import { startRuntime, type Runtime } from '../../src/runtime';
import { parseWav } from '../../src/lib/audio/wav';
import { freePort } from '../../scripts/sim/redis-server';
import { BOOKING_REPLY, CALLER_LINES, DEMO_DID, DEMO_GREETING, DEMO_HOURS_REPLY, DEMO_TENANT_ID, demoTenantConfig } from '../../scripts/sim/script';
import { TelnyxSimulator, type CallerStep, type SimCodec } from '../../scripts/sim/simulator';
import { loadBundledSpeech, SPEECH_RATE } from '../../scripts/sim/speech';
import { startStandIns, type StandIns } from '../../scripts/sim/stand-ins';
import { createRedis, closeRedis } from '../../src/lib/redis';
import { memoryLogger, testEnv } from '../support/test-config';
import { waitUntil } from '../support/call-harness';

function script(): CallerStep[] {
  const speech = loadBundledSpeech();
  const say = (i: number): CallerStep => ({ say: speech.utterances[i]!.pcm, sampleRate: SPEECH_RATE, index: i, text: CALLER_LINES[i] });
  return [{ waitForAgent: { quietMs: 400 } }, say(0), { waitForAgent: { quietMs: 500 } }, say(1), { waitForAgent: { quietMs: 500 } }];
}

describe.each([
  ['stream', 'PCMU'],
  ['url', 'PCMA'],
  ['stream', 'G722'],
] as const)('simulated call, %s playback, %s', (mode, codec) => {
  let sim: TelnyxSimulator;
  let stand: StandIns;
  let rt: Runtime;
  const env: Record<string, string | undefined> = {};
  beforeAll(async () => {
    stand = await startStandIns({ tts: 'tone', toneMsPerChar: 20, brainTokenDelayMs: 1 });
    const port = await freePort();
    sim = await TelnyxSimulator.start({ webhookUrl: `http://127.0.0.1:${port}/v1/telnyx/webhook` });
    Object.assign(
      env,
      testEnv({
        PORT: String(port),
        LOG_LEVEL: 'info',
        TELNYX_API_BASE_URL: sim.apiBaseUrl,
        TELNYX_API_KEY: sim.apiKey,
        TELNYX_PUBLIC_KEY: sim.publicKeyB64,
        TELNYX_STREAM_CODEC: codec,
        PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
        AUDIO_PUBLIC_BASE_URL: `http://127.0.0.1:${port}/audio`,
        PLAYBACK_MODE: mode,
        WHISPER_URL: stand.whisper.transcriptionsUrl,
        KOKORO_URL: stand.kokoro.speechUrl,
        BRAIN_URL: stand.brain.url,
        STT_SILENCE_MS: '500',
        DEAD_AIR_MS: '20000',
      }),
    );
    rt = await startRuntime(loadConfig(env), memoryLogger('warn').logger, { defaultMetrics: false });
    const redis = createRedis(env.REDIS_URL!, 'request');
    await redis.set(`${env.TENANTMAP_PREFIX}:did:${DEMO_DID}`, DEMO_TENANT_ID);
    await redis.set(`tenantcfg:${DEMO_TENANT_ID}`, JSON.stringify(demoTenantConfig()));
    await closeRedis(redis);
  });
  afterAll(async () => {
    await sim.close();
    await rt.close();
    await stand.close();
  });

  it('greets, transcribes the caller, answers by brain and quick reply, and hangs up cleanly', async () => {
    const call = await sim.placeCall({ to: DEMO_DID, codec: codec as SimCodec, record: true, callerAudio: { script: script() } });
    expect(call.setupMs).toBeGreaterThan(0);
    expect(call.media).toBeDefined();
    expect(call.mediaCodec).toBe(codec);
    await call.ended;
    expect(call.endedBy).toBe('caller');
    // Greeting + brain reply + quick reply were synthesized and heard.
    const said = stand.kokoro.requests.map((r) => String(r.body.input)).join(' ');
    expect(said).toContain(DEMO_GREETING);
    expect(said).toContain(BOOKING_REPLY);
    expect(said).toContain(DEMO_HOURS_REPLY);
    expect(stand.brain.requests.map((r) => r.body.transcript)).toEqual([CALLER_LINES[0]]);
    expect(stand.brainReplies[0]!.reply).toBe(BOOKING_REPLY);
    expect(call.waitTimeouts).toBe(0);
    expect(call.unexpectedCloses).toEqual([]);
    expect(call.webhookFailures).toBe(0);
    expect(call.agentAudioMs).toBeGreaterThan(3000 / 3);
    if (mode === 'url') {
      expect(call.playbacks.filter((p) => p.status === 'completed').length).toBeGreaterThanOrEqual(3);
    } else {
      expect(call.media === undefined).toBe(true);
    }
    // The recording holds both sides.
    const wav = parseWav(call.recorder!.toWav());
    expect(wav.channels).toBe(2);
    expect(wav.durationMs).toBeGreaterThan(4000);
    // The runtime let go of the call.
    await waitUntil(async () => (await rt.capacity.usage(DEMO_TENANT_ID)).tenant === 0, 5000);
    await waitUntil(() => rt.sessions!.size === 0 && rt.conversations!.size === 0, 5000);
    await expect(sim.api.waitFor((c) => c.callControlId === call.id && c.action === 'answer', 10)).resolves.toBeDefined();
  }, 60_000);
});
