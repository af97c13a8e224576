import type { Encoding } from '../../src/media/audio/codecs';
import type { Runtime } from '../../src/runtime';
import { startFakeWhisper, type FakeWhisper } from '../fakes/fake-whisper';
import { createHarness, http, newCallControlId, waitUntil, type Harness } from '../support/call-harness';
import { encodedSpeech, placeCall, streamPaced } from '../support/media-harness';
import { speechFixture } from '../support/speech-fixture';

const PRE_ROLL_MS = 300;
const SILENCE_MS = 500;
/** TELNYX_INGEST_HEALTH_GRACE_MS, left at its default here: the first audio must arrive within it. */
const START_GRACE_MS = 1200;

describe('media ingest → STT over a real WebSocket, real server, real Redis', () => {
  let h: Harness;
  let rt: Runtime;
  let whisper: FakeWhisper;
  const did = '+15552220000';
  beforeAll(async () => {
    whisper = await startFakeWhisper();
    h = await createHarness({
      WHISPER_URL: whisper.transcriptionsUrl,
      STT_PRE_ROLL_MS: String(PRE_ROLL_MS),
      STT_SILENCE_MS: String(SILENCE_MS),
      STT_CHUNK_MS: '60000',
      STT_PARTIAL_MIN_MS: '60000', // no partials: every Whisper request below is a final
      TURN_END_MODE: 'silence', // utterance ends by STT_SILENCE_MS alone: the WAV lengths below follow from it
      VAD_MODE: process.env.TEST_VAD_MODE ?? 'silero',
      GLOBAL_CONCURRENCY_CAP: '1000',
      TENANT_CONCURRENCY_CAP_DEFAULT: '1000',
      TENANT_CALLS_PER_MIN_CAP_DEFAULT: '1000',
    });
    rt = await h.start();
    await h.seedTenant('media-tenant', did);
  });
  afterAll(async () => {
    await h.close();
    await whisper.close();
  });

  const metric = async (re: RegExp) => Number(re.exec((await http.get(`${rt.url}/metrics`)).data as string)?.[1] ?? 0);

  const cases: [string, Encoding, number][] = [
    ['PCMU', 'PCMU', 8000],
    ['PCMA', 'PCMA', 8000],
    ['L16', 'L16', 16000],
    ['G722', 'G722', 16000],
    ['OPUS', 'OPUS', 16000],
    ['AMR-WB', 'AMR-WB', 16000],
  ];

  it.each(cases)('%s: two utterances reach Whisper as two 16 kHz WAVs of the right length', async (_name, encoding, rate) => {
    const before = whisper.requests.length;
    const callId = newCallControlId();
    // Encoded before the call: encoding ~9 s of audio blocks this process (the runtime's too) for
    // seconds on a loaded machine, which must not fall between the stream's start and its first frame.
    const audio = encodedSpeech(encoding, rate);
    const client = await placeCall(h, rt, callId, did, { encoding, sampleRate: rate });
    // Faster than real time, but never far ahead of the VAD: an unpaced burst would overflow its
    // (bounded) backlog on a busy machine.
    await streamPaced(rt, callId, client, audio);
    await waitUntil(() => whisper.requests.length >= before + 2, 15_000);
    await new Promise((r) => setTimeout(r, 300)); // nothing more may arrive
    const reqs = whisper.requests.slice(before);
    expect(reqs).toHaveLength(2);
    const { utterances } = speechFixture();
    reqs.forEach((req, i) => {
      expect(req.wav).toMatchObject({ sampleRate: 16000, channels: 1, bitsPerSample: 16 });
      const spoken = utterances[i]!.endMs - utterances[i]!.startMs;
      // Speech, plus at most the pre-roll before it and the kept trailing silence after it.
      expect(req.wav!.durationMs).toBeGreaterThan(spoken - 150);
      expect(req.wav!.durationMs).toBeLessThan(spoken + PRE_ROLL_MS + SILENCE_MS + 250);
    });
    client.stop();
    await client.close();
    await h.send(rt, 'call.hangup', callId, { to: did });
  });

  it('does not take its own blocked event loop for a stalled stream: frames that arrived meanwhile are read before health is judged', async () => {
    const frames = (outcome: string) => metric(new RegExp(`media_frames_total\\{outcome="${outcome}"\\} (\\d+)`));
    const decodedBefore = await frames('decoded');
    const handledBefore = decodedBefore + (await frames('not_streaming'));
    const callId = newCallControlId();
    const audio = encodedSpeech('PCMU', 8000);
    const client = await placeCall(h, rt, callId, did, { encoding: 'PCMU', sampleRate: 8000 });
    // Telnyx sends the first frame in time, but this process (the runtime's too) is blocked for longer
    // than the start grace — a CPU-starved process. The frame waits unread in the socket meanwhile.
    await new Promise<void>((resolve) =>
      setImmediate(() => {
        client.sendMedia(audio[0]!);
        const until = performance.now() + START_GRACE_MS + 300;
        while (performance.now() < until);
        resolve();
      }),
    );
    await waitUntil(async () => (await frames('decoded')) + (await frames('not_streaming')) > handledBefore);
    expect(await frames('decoded')).toBe(decodedBefore + 1);
    expect(h.telnyx.commands('streaming_stop', callId)).toEqual([]);
    await client.close();
    await h.send(rt, 'call.hangup', callId, { to: did });
  });
});
