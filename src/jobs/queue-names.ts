/**
 * One queue per kind of work so a TTS backlog never delays a hangup (docs/design.md §Shape).
 * Names are stable: they are part of the Redis key space shared by every instance.
 */
export const QUEUE_NAMES = {
  /** Telnyx webhook events, persisted before the webhook is acknowledged. */
  events: 'telnyx-events',
  /** Call Control REST commands (answer, playback_start, hangup, ...). */
  callControl: 'call-control',
  /** Speech synthesis of prompts and replies. */
  tts: 'tts',
  /** Scheduled housekeeping: audio cleanup, per-call timers. */
  maintenance: 'maintenance',
} as const;

export type QueueKey = keyof typeof QUEUE_NAMES;
export const ALL_QUEUE_KEYS = Object.keys(QUEUE_NAMES) as QueueKey[];
