/** A synthesized segment ready to be played (file under AUDIO_STORAGE_DIR). */
export interface PlayableSegment {
  id: string;
  fileName: string;
  durationMs: number;
  sampleRate: number;
  text: string;
  /** The audio in memory (stream mode, synthesized in this process); else read from `fileName`. */
  samples?: Int16Array;
  /** Play from this far into the audio (a reply resumed after a backchannel); URL playback starts over. */
  fromMs?: number;
}

/**
 * `AgentVoice.stop()` measures a segment played from `fromMs` by the part that was queued; this turns
 * such shares into shares of the whole segment (what was heard of it in all), in place.
 */
export function wholeSegmentShares(heard: Map<string, number>, playing: readonly PlayableSegment[]): Map<string, number> {
  for (const s of playing) {
    const f = heard.get(s.id);
    if (f === undefined || !s.fromMs || !(s.durationMs > 0)) continue;
    const from = Math.min(s.fromMs, s.durationMs);
    heard.set(s.id, (from + f * (s.durationMs - from)) / s.durationMs);
  }
  return heard;
}

/** The part of `samples` from `fromMs` on (all of it when unset). */
export function fromOffset(samples: Int16Array, sampleRate: number, fromMs: number | undefined): Int16Array {
  if (!fromMs || fromMs <= 0) return samples;
  return samples.subarray(Math.min(samples.length, Math.round((fromMs * sampleRate) / 1000)));
}

export interface VoiceEvents {
  segmentStarted(id: string): void;
  segmentDone(id: string): void;
  /** Everything queued has played. */
  idle(): void;
}

/**
 * How the agent's audio reaches the caller: by URL (`playback_start`) or streamed over the media
 * socket (bidirectional RTP). Segments play strictly in the order given.
 */
export interface AgentVoice {
  play(seg: PlayableSegment): void;
  /** Barge-in: stop at once, drop what is queued; returns how much of each started segment was heard (0..1). */
  stop(): Map<string, number>;
  /** Something is queued or playing. */
  readonly busy: boolean;
  /** Webhooks for the call (url mode follows call.playback.started/ended). */
  onWebhook(eventType: string, payload: Record<string, unknown>): void;
  /** Mark echoed by Telnyx on the media socket (stream mode). */
  onMark(name: string): void;
  close(): void;
}
