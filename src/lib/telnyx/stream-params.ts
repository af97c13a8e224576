import { mediaPathFor } from './media-route';
import { mediaTokenFor } from './media-token';

export interface StreamSettings {
  publicBaseUrl: string;
  mediaStreamToken: string;
  codec: string;
  playbackMode: 'url' | 'stream';
}

/** `stream_url` for a call: PUBLIC_BASE_URL with http→ws / https→wss and the per-call token. */
export function streamUrlFor(s: StreamSettings, callControlId: string): string {
  const base = s.publicBaseUrl.replace(/^http(s?):\/\//i, (_m, tls: string) => `ws${tls}://`);
  return `${base}${mediaPathFor(callControlId)}?token=${mediaTokenFor(s.mediaStreamToken, callControlId)}`;
}

/**
 * Body of the `answer` command for an accepted call (docs/design.md §Telnyx: `answer` accepts the stream
 * fields but NOT stream_auth_token nor stream_bidirectional_sampling_rate). `inbound_track` keeps
 * our own audio out of our VAD; bidirectional RTP only when we stream replies back.
 */
export function answerWithStream(s: StreamSettings, callControlId: string, clientState: string): Record<string, unknown> {
  const body: Record<string, unknown> = {
    client_state: clientState,
    stream_url: streamUrlFor(s, callControlId),
    stream_track: 'inbound_track',
    stream_codec: s.codec,
  };
  if (s.playbackMode === 'stream') {
    body.stream_bidirectional_mode = 'rtp';
    body.stream_bidirectional_codec = s.codec;
    body.stream_bidirectional_target_legs = 'self';
  }
  return body;
}

/** The bidirectional (outbound) sample rate Telnyx uses for each stream codec. */
const BIDIRECTIONAL_RATE: Readonly<Record<string, number>> = { PCMU: 8000, PCMA: 8000, G722: 16000, 'AMR-WB': 16000, OPUS: 16000, L16: 16000 };

/**
 * Body of `streaming_start` used to restart a stalled stream, re-point a moved call or fall back to
 * another codec (`streaming_start` also takes stream_bidirectional_sampling_rate, unlike `answer`;
 * it is set from the codec's rate).
 */
export function streamingStartBody(s: StreamSettings, callControlId: string, codec: string): Record<string, unknown> {
  const bidirectionalRate = Object.hasOwn(BIDIRECTIONAL_RATE, codec) ? BIDIRECTIONAL_RATE[codec] : undefined;
  const body: Record<string, unknown> = {
    stream_url: streamUrlFor(s, callControlId),
    stream_track: 'inbound_track',
    stream_codec: codec,
  };
  if (s.playbackMode === 'stream') {
    body.stream_bidirectional_mode = 'rtp';
    body.stream_bidirectional_codec = codec;
    body.stream_bidirectional_target_legs = 'self';
    if (bidirectionalRate) body.stream_bidirectional_sampling_rate = bidirectionalRate;
  }
  return body;
}
