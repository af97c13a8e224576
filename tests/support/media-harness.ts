import { createEncoder, type Encoding } from '../../src/media/audio/codecs';
import type { Runtime } from '../../src/runtime';
import { SpeechPipeline } from '../../src/media/speech/speech-pipeline';
import { FakeMediaClient } from '../fakes/fake-media-client';
import { waitUntil, type Harness } from './call-harness';
import { encodeAmrWbOctetAligned } from './amrwb-encoder';
import { frames, speechFixture } from './speech-fixture';

/** Codec bytes of the speech fixture, 20 ms per frame, as Telnyx would send them. */
export function encodedSpeech(encoding: Encoding, rate: number): Uint8Array[] {
  const f = speechFixture();
  const pcm = rate === 8000 ? f.pcm8k : f.pcm16k;
  if (encoding === 'AMR-WB') return encodeAmrWbOctetAligned(frames(f.pcm16k, 320));
  const enc = createEncoder(encoding, { sampleRate: rate });
  try {
    return frames(pcm, rate / 50).map((fr) => Uint8Array.from(enc.encode(fr)));
  } finally {
    enc.close();
  }
}

/**
 * Places a call (call.initiated → answer), connects a media client to the answer's stream_url and
 * waits until the runtime has set up the call's media session. Until then the runtime holds at most
 * ~1 s of frames (media-ws PENDING_LIMIT, sized for Telnyx's real-time pace); tests stream faster
 * than real time, so under CPU load they would overrun it and lose audio.
 */
export async function placeCall(
  h: Harness,
  rt: Runtime,
  callId: string,
  did: string,
  media: { encoding: string; sampleRate: number },
): Promise<FakeMediaClient> {
  await h.send(rt, 'call.initiated', callId, { to: did });
  const answer = await h.telnyx.waitFor((c) => c.callControlId === callId && c.action === 'answer');
  await h.send(rt, 'call.answered', callId, { to: did });
  const client = await connectStream(rt, String(answer.body.stream_url), callId, media);
  await waitUntil(() => rt.liveCalls!.get(callId)?.stream !== undefined);
  return client;
}

/** The runtime listens on 127.0.0.1: keep the stream_url's path and token, swap the host. */
export function localStreamUrl(rt: Runtime, streamUrl: string): string {
  const u = new URL(streamUrl);
  return `${rt.url!.replace(/^http/, 'ws')}${u.pathname}${u.search}`;
}

export async function connectStream(rt: Runtime, streamUrl: string, callId: string, media: { encoding: string; sampleRate: number; playback?: boolean }) {
  const client = await FakeMediaClient.connect({ url: localStreamUrl(rt, streamUrl), callControlId: callId, ...media });
  client.start();
  return client;
}

/** Frames a test may be ahead of the call's VAD: 1 s, half the VAD's backlog (it drops audio beyond 2 s). */
const AHEAD_FRAMES = 50;
const CHUNK_FRAMES = 10;

/** Frames the call's current stream has received but its VAD has not scored yet. */
export function unscoredFrames(rt: Runtime, callId: string): number {
  const p = rt.liveCalls?.get(callId)?.stream?.pipeline;
  if (p === undefined) return 0; // no stream attached yet
  // A pipeline of another shape would silently switch the pacing off: fail loudly instead.
  if (!(p instanceof SpeechPipeline)) throw new Error('the call\'s speech pipeline is not a SpeechPipeline: streamPaced cannot pace');
  return p.unscoredFrames;
}

/**
 * Streams caller frames faster than real time, but never more than AHEAD_FRAMES ahead of the
 * runtime's VAD scoring (its own count, SpeechPipeline.unscoredFrames). Telnyx sends in real time; an
 * unpaced burst of seconds of audio would outrun a CPU-starved VAD worker, which then drops audio by
 * design (utterances lost or split) — a test artefact, not the behaviour under test.
 */
export async function streamPaced(rt: Runtime, callId: string, client: FakeMediaClient, frames: Uint8Array[], stallMs = 15_000): Promise<void> {
  for (let i = 0; i < frames.length; i += CHUNK_FRAMES) {
    await waitUntil(() => unscoredFrames(rt, callId) <= AHEAD_FRAMES - CHUNK_FRAMES, stallMs, 5);
    await client.stream(frames.slice(i, i + CHUNK_FRAMES), { batch: 1 });
  }
}
