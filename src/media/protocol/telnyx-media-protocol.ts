/**
 * The Telnyx media-stream wire format (design.md §2), parse in and build out. Pure: the socket
 * code only moves bytes. Liberal in what it accepts: lowercase event names, numeric or string
 * sequence numbers, "inbound_track", MIME-style encoding names.
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

export type ParseFailure = { kind: 'invalid'; reason: 'invalid_json' | 'not_an_object' | 'missing_event' | 'invalid_media' };

/** Base64 alphabet check: Node's decoder silently skips junk, which would turn garbage into noise. */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
}

function track(v: unknown): MediaTrack {
  return typeof v === 'string' && v.toLowerCase().startsWith('outbound') ? 'outbound' : 'inbound';
}

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
        sampleRate: num(fmt.sample_rate),
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
      return {
        kind: 'media',
        streamId,
        track: track(media.track),
        seq: num(m.sequence_number),
        chunk: num(media.chunk),
        timestamp: num(media.timestamp),
        payloadB64: payload,
      };
    }
    case 'dtmf':
      return { kind: 'dtmf', digit: String(obj(m.dtmf).digit ?? '') };
    case 'mark':
      return { kind: 'mark', name: String(obj(m.mark).name ?? '') };
    case 'error': {
      const p = obj(m.payload ?? m.error);
      return { kind: 'error', code: num(p.code), title: str(p.title), detail: str(p.detail) };
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
