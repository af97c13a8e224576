import type { Config } from '../../lib/config';
import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import type { InboundAudioSink } from '../ports';
import { MediaSession, type MediaSessionEvents, type MediaSocket, type StreamControl } from './media-session';

/** Stream restarts per call (stalls + codec fallback): enough for real recoveries, never a loop. */
export const MAX_STREAM_RESTARTS = 3;

type StreamConfig = Pick<
  Config,
  | 'TELNYX_INGEST_HEALTH_ENABLED'
  | 'TELNYX_INGEST_HEALTH_RESTART_ENABLED'
  | 'TELNYX_INGEST_HEALTH_GRACE_MS'
  | 'TELNYX_INGEST_POST_PLAYBACK_GRACE_MS'
  | 'TELNYX_INGEST_MIN_AUDIO_MS_SINCE_PLAYBACK_END'
  | 'TELNYX_INGEST_DECODE_FAILURES_BEFORE_FALLBACK'
  | 'TELNYX_AMRWB_MIN_DECODED_BYTES'
  | 'TELNYX_L16_BYTE_ORDER'
>;

export interface SessionFactoryDeps {
  config: StreamConfig;
  streamControl: StreamControl;
  metrics: Metrics;
  logger: Logger;
  now?: () => number;
}

/**
 * Builds the media session of one Telnyx stream from env defaults. Its sink (the call's speech
 * pipeline, media/speech/create-speech-pipeline.ts) and its events are made first, by the call's
 * live call, and passed in.
 */
export function createSessionFactory(d: SessionFactoryDeps) {
  const c = d.config;
  const now = d.now ?? Date.now;
  return (callControlId: string, socket: MediaSocket, sink: InboundAudioSink, events: MediaSessionEvents, restartsSoFar: number): MediaSession =>
    new MediaSession(
      callControlId,
      socket,
      {
        health: {
          enabled: c.TELNYX_INGEST_HEALTH_ENABLED,
          restartEnabled: c.TELNYX_INGEST_HEALTH_RESTART_ENABLED,
          startGraceMs: c.TELNYX_INGEST_HEALTH_GRACE_MS,
          postPlaybackGraceMs: c.TELNYX_INGEST_POST_PLAYBACK_GRACE_MS,
          minAudioMsSincePlaybackEnd: c.TELNYX_INGEST_MIN_AUDIO_MS_SINCE_PLAYBACK_END,
        },
        decodeFailuresBeforeFallback: c.TELNYX_INGEST_DECODE_FAILURES_BEFORE_FALLBACK,
        amrwbMinDecodedBytes: c.TELNYX_AMRWB_MIN_DECODED_BYTES,
        l16ByteOrder: c.TELNYX_L16_BYTE_ORDER,
        maxRestarts: MAX_STREAM_RESTARTS,
        streamControl: d.streamControl,
        sink,
        events,
        metrics: d.metrics,
        logger: d.logger,
        now,
      },
      restartsSoFar,
    );
}
