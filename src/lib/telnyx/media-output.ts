import { buildClear, buildMark, buildMedia } from './media-protocol';

/** Outbound side of a Telnyx bidirectional media stream, in the shape a playout writes to. */
export interface TelnyxMediaOutput {
  /** One message of encoded audio (a `media` frame). */
  media(bytes: Uint8Array): void;
  /** A `mark`: Telnyx echoes it back once everything before it has played. */
  mark(name: string): void;
  /** A `clear`: Telnyx drops the audio it still has queued (barge-in). */
  clear(): void;
}

/** Frames a playout's output as Telnyx media-stream JSON text messages on the call's socket. */
export function telnyxMediaOutput(send: (text: string) => void): TelnyxMediaOutput {
  return { media: (bytes) => send(buildMedia(bytes)), mark: (name) => send(buildMark(name)), clear: () => send(buildClear()) };
}
