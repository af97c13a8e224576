import { createEncoder, type Encoding } from '../../src/media/audio/codecs';
import type { Runtime } from '../../src/runtime';
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
