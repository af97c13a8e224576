/**
 * Decides whether a call's inbound media stream is alive (the seed's TELNYX_INGEST_* variables).
 * Pure: times are passed in; the session polls `check(now)` from a shared ticker.
 *
 * Telnyx sends a frame every 20 ms for as long as the stream lives (silence included), so
 * "no frames for a while" means the stream stalled. The monitor watches at two moments where
 * stalls happen in practice:
 * - stream start: the first audio must arrive within `startGraceMs` (TELNYX_INGEST_HEALTH_GRACE_MS);
 * - after our playback ends: audio must keep arriving — a gap longer than `postPlaybackGraceMs`
 *   (TELNYX_INGEST_POST_PLAYBACK_GRACE_MS) before `minAudioMsSincePlaybackEnd`
 *   (TELNYX_INGEST_MIN_AUDIO_MS_SINCE_PLAYBACK_END) of audio has arrived since the playback ended
 *   marks the stream unhealthy. Once that much audio arrived the stream counts as recovered.
 */
export interface IngestHealthConfig {
  enabled: boolean;
  /** Whether a stall triggers a stream restart (TELNYX_INGEST_HEALTH_RESTART_ENABLED); acted on by the session. */
  restartEnabled: boolean;
  startGraceMs: number;
  postPlaybackGraceMs: number;
  minAudioMsSincePlaybackEnd: number;
}

export type IngestVerdict = 'ok' | 'stalled_at_start' | 'stalled_after_playback';

type Watch = { kind: 'none' } | { kind: 'start'; since: number } | { kind: 'post_playback'; since: number; audioMs: number };

export class IngestHealthMonitor {
  private watch: Watch = { kind: 'none' };
  private lastFrameAt = -Infinity;

  constructor(private readonly cfg: IngestHealthConfig) {}

  /** The stream (re)started: wait for its first audio. */
  onStreamStart(now: number): void {
    this.watch = { kind: 'start', since: now };
    this.lastFrameAt = -Infinity;
  }

  onAudio(now: number, durationMs: number): void {
    this.lastFrameAt = now;
    const w = this.watch;
    if (w.kind === 'start') this.watch = { kind: 'none' };
    else if (w.kind === 'post_playback') {
      w.audioMs += durationMs;
      if (w.audioMs >= this.cfg.minAudioMsSincePlaybackEnd) this.watch = { kind: 'none' };
    }
  }

  onPlaybackEnded(now: number): void {
    if (this.watch.kind === 'start') return; // still waiting for the first audio: that check wins
    this.watch = { kind: 'post_playback', since: now, audioMs: 0 };
  }

  check(now: number): IngestVerdict {
    if (!this.cfg.enabled) return 'ok';
    const w = this.watch;
    if (w.kind === 'start') return now - w.since > this.cfg.startGraceMs ? 'stalled_at_start' : 'ok';
    if (w.kind === 'post_playback') {
      const quietSince = Math.max(w.since, this.lastFrameAt);
      return now - quietSince > this.cfg.postPlaybackGraceMs ? 'stalled_after_playback' : 'ok';
    }
    return 'ok';
  }

  /** Stop watching (after a verdict has been acted on, until the stream restarts). */
  reset(): void {
    this.watch = { kind: 'none' };
  }
}
