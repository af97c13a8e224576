/**
 * The compact Telnyx media frame read straight from the WebSocket message's bytes, and its base64
 * payload decoded from those bytes: no string of the message, no regex captures, no frame object.
 *
 * Why: at 500 speaking calls the main thread takes 25,000 media messages a second. Turning each
 * into a string and matching it with a regex (the fast path this replaced) made about a quarter of
 * everything that thread allocated (an allocation profile of bench:media: the message string
 * ~12 %, the regex captures and frame object ~13 %), and garbage-collector pauses made most of
 * the longest event-loop stalls in a CPU profile of the same run. (CPU time per frame did not
 * change measurably: the regex was already cheap.)
 *
 * The grammar is the frame as Telnyx writes it — `{"event":"media","sequence_number":"N",` then
 * `"stream_id":"S",` and `"media":{…}` in either order, no whitespace, no escapes — so anything
 * else (other key orders, spaces, numbers as JSON numbers, other events) is refused here and takes
 * the full parse (media-protocol.ts), which reads these same messages the same way
 * (tests/unit/media-frame-bytes.test.ts holds the two to it on mutated frames). Bounded: digit runs ≤ 16, stream id ≤ 128 of
 * [A-Za-z0-9._:-], one pass over the message, nothing allocated in proportion to what the peer
 * sent.
 */
import type { MediaTrack } from './media-protocol';

/** The fields of an accepted frame; the caller owns one and the parser fills it (no allocation). */
export interface CompactMedia {
  track: MediaTrack;
  seq: number;
  chunk: number;
  /** The base64 payload is bytes [payloadStart, payloadEnd) of the message. */
  payloadStart: number;
  payloadEnd: number;
}

export const newCompactMedia = (): CompactMedia => ({ track: 'inbound', seq: 0, chunk: 0, payloadStart: 0, payloadEnd: 0 });

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const HEAD = ascii('{"event":"media","sequence_number":"');
const STREAM_ID = ascii('"stream_id":"');
const MEDIA_TRACK = ascii('"media":{"track":"');
const INBOUND = ascii('inbound');
const OUTBOUND = ascii('outbound');
const CHUNK = ascii('","chunk":"');
const TIMESTAMP = ascii('","timestamp":"');
const PAYLOAD = ascii('","payload":"');
const QUOTE = 0x22;
const COMMA = 0x2c;
const CLOSE = 0x7d;
const EQUALS = 0x3d;
const MAX_DIGITS = 16;
const MAX_STREAM_ID = 128;

/** Base64 alphabet value of each byte, −1 if not in it ('=' included: padding is handled apart). */
const B64 = new Int8Array(256).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split('').forEach((c, i) => (B64[c.charCodeAt(0)] = i));

/** Stream-id characters the fast path takes (JSON passes them through unchanged). */
const SID = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-') SID[c.charCodeAt(0)] = 1;

/** Index after `lit` if `b` has it at `at`, else −1. */
function lit(b: Uint8Array, at: number, l: Uint8Array): number {
  if (at < 0 || at + l.length > b.length) return -1;
  for (let k = 0; k < l.length; k += 1) if (b[at + k] !== l[k]) return -1;
  return at + l.length;
}

/** Parsed by `digits`: the value and where the run ended (−1: no run of 1–16 digits there). */
let numValue = 0;
function digits(b: Uint8Array, at: number): number {
  if (at < 0) return -1;
  let v = 0;
  let i = at;
  const end = Math.min(b.length, at + MAX_DIGITS + 1);
  for (; i < end; i += 1) {
    const d = b[i]! - 0x30;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
  }
  const n = i - at;
  if (n === 0 || n > MAX_DIGITS) return -1;
  numValue = v;
  return i;
}

/** `"stream_id":"S"` at `at`; index after the closing quote, or −1. */
function streamId(b: Uint8Array, at: number): number {
  let i = lit(b, at, STREAM_ID);
  if (i < 0) return -1;
  const end = Math.min(b.length, i + MAX_STREAM_ID + 1);
  const start = i;
  while (i < end && SID[b[i]!] === 1) i += 1;
  if (i - start > MAX_STREAM_ID || b[i] !== QUOTE) return -1;
  return i + 1;
}

/** `"media":{…}` at `at`, filling `out`; index after its closing brace, or −1. */
function media(b: Uint8Array, at: number, out: CompactMedia): number {
  let i = lit(b, at, MEDIA_TRACK);
  if (i < 0) return -1;
  const inb = lit(b, i, INBOUND);
  if (inb >= 0) {
    out.track = 'inbound';
    i = inb;
  } else {
    i = lit(b, i, OUTBOUND);
    out.track = 'outbound';
  }
  i = digits(b, lit(b, i, CHUNK));
  if (i < 0) return -1;
  out.chunk = numValue;
  i = digits(b, lit(b, i, TIMESTAMP));
  i = lit(b, i, PAYLOAD);
  if (i < 0) return -1;
  const start = i;
  while (i < b.length && B64[b[i]!]! >= 0) i += 1;
  if (i === start) return -1;
  let pad = 0;
  while (pad < 2 && b[i] === EQUALS) {
    i += 1;
    pad += 1;
  }
  if ((i - start) % 4 !== 0 || b[i] !== QUOTE || b[i + 1] !== CLOSE) return -1;
  out.payloadStart = start;
  out.payloadEnd = i;
  return i + 2;
}

/**
 * Reads `b` as the compact Telnyx media frame into `out`; false (out unspecified) when it is not
 * exactly that frame — the caller then parses the message in full.
 */
export function parseCompactMedia(b: Uint8Array, out: CompactMedia): boolean {
  let i = digits(b, lit(b, 0, HEAD));
  if (i < 0 || !Number.isSafeInteger(numValue)) return false;
  out.seq = numValue;
  if (b[i] !== QUOTE || b[i + 1] !== COMMA) return false;
  i += 2;
  if (b[i + 1] === 0x73 /* "s…: stream_id first */) {
    i = streamId(b, i);
    if (i < 0 || b[i] !== COMMA) return false;
    i = media(b, i + 1, out);
    if (i < 0 || b[i] !== CLOSE) return false;
    i += 1;
  } else {
    i = media(b, i, out);
    if (i < 0 || b[i] !== COMMA) return false;
    i = streamId(b, i + 1);
    if (i < 0 || b[i] !== CLOSE) return false;
    i += 1;
  }
  return i === b.length && Number.isSafeInteger(out.chunk);
}

/**
 * Decodes base64 bytes [start, end) into `out`; the number of bytes written, or −1 when the range
 * is not whole base64 quads (padding only at the end) or `out` is too small.
 */
export function decodeBase64Bytes(src: Uint8Array, start: number, end: number, out: Uint8Array): number {
  const len = end - start;
  if (len % 4 !== 0) return -1;
  if (len === 0) return 0;
  const pad = src[end - 1] === EQUALS ? (src[end - 2] === EQUALS ? 2 : 1) : 0;
  const n = (len / 4) * 3 - pad;
  if (n > out.length) return -1;
  let o = 0;
  const full = end - (pad > 0 ? 4 : 0);
  for (let i = start; i < full; i += 4) {
    const a = B64[src[i]!]!;
    const b = B64[src[i + 1]!]!;
    const c = B64[src[i + 2]!]!;
    const d = B64[src[i + 3]!]!;
    if ((a | b | c | d) < 0) return -1;
    const v = (a << 18) | (b << 12) | (c << 6) | d;
    out[o] = v >> 16;
    out[o + 1] = (v >> 8) & 0xff;
    out[o + 2] = v & 0xff;
    o += 3;
  }
  if (pad > 0) {
    const a = B64[src[full]!]!;
    const b = B64[src[full + 1]!]!;
    const c = pad === 1 ? B64[src[full + 2]!]! : 0;
    if ((a | b | c) < 0) return -1;
    const v = (a << 18) | (b << 12) | (c << 6);
    out[o] = v >> 16;
    if (pad === 1) out[o + 1] = (v >> 8) & 0xff;
    o += 3 - pad;
  }
  return o;
}
