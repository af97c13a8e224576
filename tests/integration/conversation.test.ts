import { freePort } from '../support/redis-server';
import type { Runtime } from '../../src/runtime';
import { parseWav } from '../../src/lib/audio/wav';
import { startFakeBrain, type FakeBrain } from '../fakes/fake-brain';
import { expectedDurationMs } from '../fakes/fake-kokoro';
import type { FakeMediaClient } from '../fakes/fake-media-client';
import { startFakeWhisper, type FakeWhisper } from '../fakes/fake-whisper';
import { createHarness, http, newCallControlId, tenantDoc, waitUntil, type Harness } from '../support/call-harness';
import { connectStream, encodedSpeech, streamPaced } from '../support/media-harness';
import { logWatch, type LogWatch } from '../support/log-watch';
import { speechFixture } from '../support/speech-fixture';

jest.setTimeout(60_000);

const DID = '+15554440000';
const GREETING = 'Hi, Acme here.';
const REPLY_1 = 'Sure. What time works?';
const REPLY_2 = 'We have openings at nine, at ten thirty, at noon, and also late in the afternoon if that suits you better.';
const REPLY_3 = 'Ten it is. See you then.';
const CALLER = ['I would like to book an appointment.', 'What times do you have?', 'Ten please.'];

/** The first fixture utterance, then 1 s of silence: one caller turn. */
function callerTurn(): Uint8Array[] {
  const f = speechFixture();
  const u = f.utterances[0]!;
  const frames = encodedSpeech('PCMU', 8000);
  return frames.slice(0, Math.ceil((u.endMs + 1000) / 20));
}

describe.each(['stream', 'url'] as const)('a whole call in %s playback mode', (mode) => {
  let h: Harness;
  let rt: Runtime;
  let whisper: FakeWhisper;
  let brain: FakeBrain;
  let port: number;
  let logs: LogWatch;
  beforeAll(async () => {
    logs = logWatch('info');
    whisper = await startFakeWhisper({ script: CALLER });
    brain = await startFakeBrain({
      mode: 'sse',
      script: (body) => {
        const n = brain.requests.length;
        const text = n === 1 ? REPLY_1 : n === 2 ? REPLY_2 : REPLY_3;
        void body;
        return { tokens: text.split(/(?<= )/), tokenDelayMs: 2 };
      },
    });
    port = await freePort();
    h = await createHarness({
      PORT: String(port),
      AUDIO_PUBLIC_BASE_URL: `http://127.0.0.1:${port}/audio`,
      PLAYBACK_MODE: mode,
      WHISPER_URL: whisper.transcriptionsUrl,
      BRAIN_URL: brain.url,
      STT_SILENCE_MS: '500',
      STT_PARTIAL_MIN_MS: '60000',
      // Dead air is asked for only at the end, after the last reply; until then the caller always
      // speaks as soon as the agent's turn is over, and their speech onset must be seen before the
      // prompt would fire. 4 s keeps a CPU-starved runtime (a busy 2-core machine) well clear of it.
      DEAD_AIR_MS: '4000',
      TELNYX_INGEST_HEALTH_ENABLED: 'false',
      // The Whisper fake answers from a script in request order: one request per utterance (the silence
      // rule), so a comma pause in a line does not ask for an extra transcript (turn-taking.test.ts covers that).
      TURN_END_MODE: 'silence',
    }, { logger: logs.logger });
    rt = await h.start();
    await h.seedTenant('acme', DID, tenantDoc('acme', DID, { greeting: GREETING }));
  });
  afterAll(async () => {
    await h.close();
    await whisper.close();
    await brain.close();
  });

  it('greets, answers, is interrupted, prompts on dead air, and cleans up at hangup', async () => {
    const callId = newCallControlId();
    // --- url mode: the fake Telnyx fetches and "plays" each audio_url, then reports the end.
    const played: { url: string; ms: number }[] = [];
    let playing: NodeJS.Timeout | undefined;
    h.telnyx.setOnAction(async (cmd) => {
      if (cmd.callControlId !== callId) return;
      if (cmd.action === 'playback_start') {
        const res = await http.get(String(cmd.body.audio_url), { responseType: 'arraybuffer' });
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toBe('audio/wav');
        const ms = parseWav(Buffer.from(res.data as ArrayBuffer)).durationMs;
        played.push({ url: String(cmd.body.audio_url), ms });
        await h.send(rt, 'call.playback.started', callId, { to: DID });
        playing = setTimeout(() => void h.send(rt, 'call.playback.ended', callId, { to: DID, status: 'completed' }).catch(() => undefined), ms);
      } else if (cmd.action === 'playback_stop') {
        if (playing) clearTimeout(playing);
        await h.send(rt, 'call.playback.ended', callId, { to: DID, status: 'call_hangup' });
      }
    });
    const agentMs = () => (mode === 'stream' ? client.agentMs : played.reduce((s, p) => s + p.ms, 0));
    // The runtime's own report of each agent turn ("turn" line: source, outcome). A completed turn
    // was played to its end (stream: its last mark echoed by the caller side; url: playback.ended
    // processed) and the conversation listens again, so the caller may speak without barging in.
    const turnLines = () => logs.lines.filter((l) => l.msg === 'turn' && l.callControlId === callId);
    const turnLogged = (n: number, what: string) => logs.waitFor(() => turnLines().length >= n, 15_000, what).then(() => turnLines()[n - 1]!);
    /** Texts synthesized since request `from` (each once: a retried synthesis is not a second segment). */
    const synthesizedSince = (from: number) => [...new Set(h.kokoro.requests.slice(from).map((r) => String(r.body.input)))];
    const msOf = (texts: string[]) => texts.reduce((s, t) => s + expectedDurationMs(t), 0);

    await h.send(rt, 'call.initiated', callId, { to: DID });
    const answer = await h.telnyx.waitFor((c) => c.callControlId === callId && c.action === 'answer');
    await h.send(rt, 'call.answered', callId, { to: DID });
    const client: FakeMediaClient = await connectStream(rt, String(answer.body.stream_url), callId, { encoding: 'PCMU', sampleRate: 8000, playback: true });

    // 1. Greeting: the tenant's greeting is synthesized and reaches the caller, whole.
    expect(await turnLogged(1, 'greeting turn')).toMatchObject({ source: 'greeting', outcome: 'completed' });
    expect(synthesizedSince(0)).toEqual([GREETING]);
    expect(agentMs()).toBeGreaterThanOrEqual(expectedDurationMs(GREETING) - 40);
    expect(agentMs()).toBeLessThan(expectedDurationMs(GREETING) + 2 * 20 + 1);

    // 2. Caller speaks → Whisper → transcript in the brain request (streamed) → TTS → audio to the caller.
    const before1 = agentMs();
    const tts1 = h.kokoro.requests.length;
    await streamPaced(rt, callId, client, callerTurn());
    await waitUntil(() => brain.requests.length >= 1, 15_000);
    const req1 = brain.requests[0]!;
    expect(req1.path).toBe('/reply/stream');
    expect(req1.body).toMatchObject({ tenantId: 'acme', callControlId: callId, transcript: CALLER[0] });
    expect(req1.body.history).toEqual([{ role: 'assistant', content: GREETING, timestamp: expect.any(Number) }]);
    // Exactly one reply is played, whole, and nothing else: the turn's segments are the reply's text,
    // and the agent audio since the greeting is theirs (each padded to whole 20 ms frames).
    expect(await turnLogged(2, 'first reply turn')).toMatchObject({ source: 'speech', outcome: 'completed' });
    const reply1 = synthesizedSince(tts1);
    expect(reply1.join(' ')).toBe(REPLY_1);
    const reply1Ms = msOf(reply1);
    expect(agentMs() - before1).toBeGreaterThanOrEqual(reply1Ms - 60);
    expect(agentMs() - before1).toBeLessThan(reply1Ms + reply1.length * 20 + 1);

    // 3. A long reply is interrupted by the caller: playback is cleared/stopped at once.
    const before2 = agentMs();
    await streamPaced(rt, callId, client, callerTurn().slice(0, 20)); // caller silence... then the question
    await streamPaced(rt, callId, client, callerTurn());
    await waitUntil(() => brain.requests.length >= 2, 15_000);
    expect(brain.requests[1]!.body.transcript).toBe(CALLER[1]);
    // Nothing was played between the first reply and the caller's question.
    expect(turnLines()).toHaveLength(2);
    await waitUntil(() => agentMs() - before2 > 300, 15_000);
    const speech = callerTurn();
    await client.stream(speech, { batch: 1, realtime: true });
    if (mode === 'stream') await waitUntil(() => client.clears >= 1, 15_000);
    else await waitUntil(() => h.telnyx.commands('playback_stop', callId).length >= 1, 15_000);
    await waitUntil(() => brain.requests.length >= 3, 15_000);
    const history3 = brain.requests[2]!.body.history as { role: string; content: string }[];
    const heard = history3.filter((e) => e.role === 'assistant').at(-1)!.content;
    expect(heard.length).toBeLessThan(REPLY_2.length); // only what the caller heard is remembered
    expect(REPLY_2.startsWith(heard.replace(/…$/, ''))).toBe(true);
    expect(await turnLogged(3, 'interrupted reply turn')).toMatchObject({ source: 'speech', outcome: 'interrupted' });
    const m = (await http.get(`${rt.url}/metrics`)).data as string;
    expect(m).toMatch(/barge_ins_total [1-9]/);

    // 4. Dead air: the caller says nothing after the last reply → "Are you still there?"
    expect(await turnLogged(4, 'third reply turn')).toMatchObject({ source: 'speech', outcome: 'completed' });
    expect(await turnLogged(5, 'dead-air prompt')).toMatchObject({ source: 'dead_air' });
    await waitUntil(() => h.kokoro.requests.some((r) => r.body.input === 'Are you still there?'), 15_000);

    // 5. Caller hangs up: session, conversation and capacity slot are gone.
    client.stop();
    await client.close();
    await h.send(rt, 'call.hangup', callId, { to: DID, hangup_cause: 'normal_clearing' });
    await waitUntil(async () => (await rt.capacity.usage('acme')).tenant === 0);
    await waitUntil(() => rt.liveCalls!.size === 0, 5000);
    const metrics = (await http.get(`${rt.url}/metrics`)).data as string;
    expect(metrics).toMatch(/turn_latency_seconds_count\{stage="first_audio"\} [1-9]/);
    h.telnyx.setOnAction(undefined);
    if (playing) clearTimeout(playing);
  });
});
