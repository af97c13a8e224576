/**
 * The Telnyx media-stream wire format, parse in and build out. Pure: the socket code only moves
 * bytes. Liberal in what it accepts: lowercase event names, numeric or string sequence numbers,
 * "inbound_track", MIME-style encoding names. Strict where a peer's value would drive work or
 * memory: frame numbers are non-negative safe integers, numeric strings are length-capped before
 * Number(), texts we log are truncated, and nothing the peer sent is ever String()-ed (a JSON
 * object with a "toString" key makes String() throw).
 */

export type MediaTrack = 'inbound' | 'outbound';

export type InboundFrame =
  | { kind: 'connected'; version?: string }
  | { kind: 'start'; streamId?: string; callControlId?: string; encoding: string; sampleRate?: number; channels?: number; clientState?: string }
  | { kind: 'media'; streamId?: string; track: MediaTrack; seq?: number; chunk?: number; timestamp?: number; payloadB64: string }
  | { kind: 'dtmf'; digit: string }
  | { kind: 'mark'; name: string }
  | { kind: 'error'; code?: number; title?: string; detail?: string }
  | { kind: 'stop' }
  | { kind: 'unknown'; event: string };

export type ParseFailure = {
  kind: 'invalid';
  reason: 'invalid_json' | 'not_an_object' | 'missing_event' | 'invalid_media' | 'invalid_sequence' | 'invalid_dtmf';
};

/** Base64 alphabet check: Node's decoder silently skips junk, which would turn garbage into noise. */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/**
 * Longest `sequence_number`/`chunk` string we read: 2^53 − 1 has 16 digits. A 20 ms frame count
 * needs 11 digits to last 60 years, so anything longer is not a frame number.
 */
export const MAX_FRAME_NUMBER_CHARS = 16;
const DIGITS = /^[0-9]+$/;
/** Longest numeric string read for other fields (rates, timestamps, error codes): no Number() of a peer-sized string. */
const MAX_NUMBER_CHARS = 32;
/** Error texts from Telnyx end up in our logs: a line, not a peer-sized blob. */
const MAX_ERROR_TEXT = 200;
/** DTMF digits as Telnyx reports them (RFC 4733 events 0–15). */
const DTMF_DIGIT = /^[0-9A-D*#]$/i;

function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.length <= MAX_NUMBER_CHARS && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

/**
 * A frame number: a count, so a non-negative safe integer, as a JSON number or a string of digits.
 * Absent (or null) → undefined; present but anything else → null (the frame is invalid). Huge or
 * fractional numbers are refused here because the reorder buffer's work is measured in them.
 */
function frameNumber(v: unknown): number | undefined | null {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : null;
  if (typeof v !== 'string' || v.length > MAX_FRAME_NUMBER_CHARS || !DIGITS.test(v)) return null;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : null;
}

/** A sample rate: absent → undefined (the codec's default); present but not a number → NaN (no codec runs at it). */
function rate(v: unknown): number | undefined {
  return v === undefined || v === null ? undefined : (num(v) ?? Number.NaN);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' ? v.slice(0, MAX_ERROR_TEXT) : undefined;
}

function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
}

function track(v: unknown): MediaTrack {
  return typeof v === 'string' && v.toLowerCase().startsWith('outbound') ? 'outbound' : 'inbound';
}

/**
 * The full parse. The compact media frame off the socket (nearly every message) is read from its
 * bytes before it gets here (media-frame-bytes.ts); text takes this path.
 */
export function parseInbound(data: string): InboundFrame | ParseFailure {
  let msg: unknown;
  try {
    msg = JSON.parse(data);
  } catch {
    return { kind: 'invalid', reason: 'invalid_json' };
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return { kind: 'invalid', reason: 'not_an_object' };
  const m = msg as Record<string, unknown>;
  const event = str(m.event)?.toLowerCase();
  if (!event) return { kind: 'invalid', reason: 'missing_event' };
  const streamId = str(m.stream_id);
  switch (event) {
    case 'connected':
      return { kind: 'connected', version: str(m.version) };
    case 'start': {
      const start = obj(m.start);
      const fmt = obj(start.media_format);
      return {
        kind: 'start',
        streamId,
        callControlId: str(start.call_control_id),
        encoding: str(fmt.encoding) ?? 'PCMU',
        sampleRate: rate(fmt.sample_rate),
        channels: num(fmt.channels),
        clientState: str(start.client_state),
      };
    }
    case 'media': {
      const media = obj(m.media);
      const payload = str(media.payload);
      if (payload === undefined || payload.length === 0 || payload.length % 4 !== 0 || !BASE64.test(payload)) {
        return { kind: 'invalid', reason: 'invalid_media' };
      }
      // A frame whose number is garbage is dropped, not played "unnumbered": its place in time is
      // unknown, and one lost 20 ms frame is what a jitter buffer does with a corrupt RTP header.
      const seq = frameNumber(m.sequence_number);
      const chunk = frameNumber(media.chunk);
      if (seq === null || chunk === null) return { kind: 'invalid', reason: 'invalid_sequence' };
      return { kind: 'media', streamId, track: track(media.track), seq, chunk, timestamp: num(media.timestamp), payloadB64: payload };
    }
    case 'dtmf': {
      const d = obj(m.dtmf).digit;
      const digit = typeof d === 'number' && Number.isInteger(d) && d >= 0 && d <= 9 ? String(d) : str(d);
      return digit !== undefined && DTMF_DIGIT.test(digit) ? { kind: 'dtmf', digit } : { kind: 'invalid', reason: 'invalid_dtmf' };
    }
    case 'mark':
      return { kind: 'mark', name: str(obj(m.mark).name) ?? '' };
    case 'error': {
      const p = obj(m.payload ?? m.error);
      return { kind: 'error', code: num(p.code), title: text(p.title), detail: text(p.detail) };
    }
    case 'stop':
      return { kind: 'stop' };
    default:
      return { kind: 'unknown', event };
  }
}

/** App → Telnyx (bidirectional `rtp` mode only): codec bytes, base64, 20 ms to 30 s per message. */
export function buildMedia(payload: Uint8Array): string {
  return `{"event":"media","media":{"payload":"${Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('base64')}"}}`;
}

/** Echoed back by Telnyx once the audio sent before it has played. */
export function buildMark(name: string): string {
  return JSON.stringify({ event: 'mark', mark: { name } });
}

/** Stops playback at once, drops queued audio; queued marks are echoed. */
export function buildClear(): string {
  return '{"event":"clear"}';
}
