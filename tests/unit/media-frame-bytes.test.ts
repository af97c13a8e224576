/**
 * The byte-level reader of the compact Telnyx media frame (src/lib/telnyx/media-frame-bytes.ts)
 * against the full parse (parseInbound): whatever it accepts, the full parse reads as the same
 * media frame; every compact frame Telnyx can send (either key order, any valid field values) is
 * accepted; hostile variants are refused, not thrown on; and its base64 decoder matches Node's.
 */
import { decodeBase64Bytes, newCompactMedia, parseCompactMedia } from '../../src/lib/telnyx/media-frame-bytes';
import { parseInbound } from '../../src/lib/telnyx/media-protocol';
import { rng } from '../support/audio-signals';

const SID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-';

function frame(o: { seq: string; sid: string; track: string; chunk: string; ts: string; payload: string; sidFirst: boolean }): string {
  const media = `"media":{"track":"${o.track}","chunk":"${o.chunk}","timestamp":"${o.ts}","payload":"${o.payload}"}`;
  const sid = `"stream_id":"${o.sid}"`;
  return `{"event":"media","sequence_number":"${o.seq}",${o.sidFirst ? `${sid},${media}` : `${media},${sid}`}}`;
}

/** What the full parse says, reduced to the fields the byte reader gives. */
function slow(text: string) {
  const f = parseInbound(text);
  return f.kind === 'media' ? { track: f.track, seq: f.seq, chunk: f.chunk, payload: f.payloadB64 } : undefined;
}

function fast(text: string) {
  const b = Buffer.from(text, 'utf8');
  const out = newCompactMedia();
  if (!parseCompactMedia(b, out)) return undefined;
  return { track: out.track, seq: out.seq, chunk: out.chunk, payload: b.toString('latin1', out.payloadStart, out.payloadEnd) };
}

function randomFrame(r: () => number) {
  const digits = (max: number) => {
    const n = 1 + Math.floor(r() * max);
    let s = String(1 + Math.floor(r() * 9));
    while (s.length < n) s += Math.floor(r() * 10);
    return r() < 0.1 ? '0' : s;
  };
  const sidLen = r() < 0.1 ? (r() < 0.5 ? 0 : 128) : Math.floor(r() * 40);
  let sid = '';
  for (let i = 0; i < sidLen; i += 1) sid += SID_CHARS[Math.floor(r() * SID_CHARS.length)];
  const bytes = Buffer.alloc(1 + Math.floor(r() * 200));
  for (let i = 0; i < bytes.length; i += 1) bytes[i] = Math.floor(r() * 256);
  return {
    seq: digits(15),
    sid,
    track: r() < 0.8 ? 'inbound' : 'outbound',
    chunk: digits(15),
    ts: digits(16),
    payload: bytes.toString('base64'),
    sidFirst: r() < 0.5,
  };
}

it('reads every compact frame (either key order, any valid values) exactly as the full parse does', () => {
  const r = rng(17);
  for (let i = 0; i < 5000; i += 1) {
    const text = frame(randomFrame(r));
    const want = slow(text);
    expect(want).toBeDefined();
    expect(fast(text)).toEqual(want);
  }
});

it('accepts nothing the full parse reads differently: 20,000 mutated frames', () => {
  const r = rng(23);
  const junk = '{}":,\\ 0123456789=+/aAzZ-_.\u00e9\u4e2d\n\t';
  let accepted = 0;
  for (let i = 0; i < 20_000; i += 1) {
    let text = frame(randomFrame(r));
    const edits = 1 + Math.floor(r() * 3);
    for (let e = 0; e < edits; e += 1) {
      const at = Math.floor(r() * (text.length + 1));
      const c = junk[Math.floor(r() * junk.length)]!;
      const op = r();
      if (op < 0.4) text = text.slice(0, at) + c + text.slice(at + 1);
      else if (op < 0.7) text = text.slice(0, at) + c + text.slice(at);
      else if (op < 0.9) text = text.slice(0, at) + text.slice(at + 1);
      else text = text.slice(0, at);
    }
    const got = fast(text);
    if (got === undefined) continue; // the full parse decides
    accepted += 1;
    expect(slow(text)).toEqual(got);
  }
  // Many mutations land inside a payload or a number and leave a valid frame: the check above ran.
  expect(accepted).toBeGreaterThan(1000);
});

it.each([
  ['a 17-digit sequence number', frame({ seq: '12345678901234567', sid: 's', track: 'inbound', chunk: '1', ts: '1', payload: 'AAAA', sidFirst: true })],
  ['a sequence number beyond 2^53', frame({ seq: '9999999999999999', sid: 's', track: 'inbound', chunk: '1', ts: '1', payload: 'AAAA', sidFirst: true })],
  ['a chunk beyond 2^53', frame({ seq: '1', sid: 's', track: 'inbound', chunk: '9007199254740993', ts: '1', payload: 'AAAA', sidFirst: false })],
  ['a 129-character stream id', frame({ seq: '1', sid: 'x'.repeat(129), track: 'inbound', chunk: '1', ts: '1', payload: 'AAAA', sidFirst: true })],
  ['a payload that is not whole quads', frame({ seq: '1', sid: 's', track: 'inbound', chunk: '1', ts: '1', payload: 'AAAAA', sidFirst: true })],
  ['padding inside the payload', frame({ seq: '1', sid: 's', track: 'inbound', chunk: '1', ts: '1', payload: 'AA==AAAA', sidFirst: true })],
  ['three padding characters', frame({ seq: '1', sid: 's', track: 'inbound', chunk: '1', ts: '1', payload: 'A===', sidFirst: true })],
  ['an empty payload', frame({ seq: '1', sid: 's', track: 'inbound', chunk: '1', ts: '1', payload: '', sidFirst: true })],
  ['another track', frame({ seq: '1', sid: 's', track: 'both', chunk: '1', ts: '1', payload: 'AAAA', sidFirst: true })],
  ['trailing bytes', `${frame({ seq: '1', sid: 's', track: 'inbound', chunk: '1', ts: '1', payload: 'AAAA', sidFirst: true })} `],
  ['a truncated frame', frame({ seq: '1', sid: 's', track: 'inbound', chunk: '1', ts: '1', payload: 'AAAA', sidFirst: true }).slice(0, -1)],
  ['an escaped stream id', frame({ seq: '1', sid: 's\\u0041', track: 'inbound', chunk: '1', ts: '1', payload: 'AAAA', sidFirst: true })],
  ['another event', '{"event":"mark","mark":{"name":"x"}}'],
  ['nothing', ''],
])('refuses %s (the full parse decides)', (_label, text) => {
  expect(fast(text)).toBeUndefined();
});

it('decodes base64 bytes as Node does, refuses what is not base64, and never writes past its output', () => {
  const r = rng(5);
  for (let i = 0; i < 2000; i += 1) {
    const bytes = Buffer.alloc(Math.floor(r() * 400));
    for (let k = 0; k < bytes.length; k += 1) bytes[k] = Math.floor(r() * 256);
    const b64 = Buffer.from(bytes.toString('base64'), 'latin1');
    const out = Buffer.alloc(bytes.length + 4, 0xee);
    const n = decodeBase64Bytes(b64, 0, b64.length, out);
    expect(n).toBe(bytes.length);
    expect(out.subarray(0, n).equals(bytes)).toBe(true);
    expect(out.subarray(n).every((v) => v === 0xee)).toBe(true);
  }
  const b = (s: string) => Buffer.from(s, 'latin1');
  expect(decodeBase64Bytes(b('AA=A'), 0, 4, Buffer.alloc(8))).toBe(-1);
  expect(decodeBase64Bytes(b('A*AA'), 0, 4, Buffer.alloc(8))).toBe(-1);
  expect(decodeBase64Bytes(b('AAAAA'), 0, 5, Buffer.alloc(8))).toBe(-1);
  expect(decodeBase64Bytes(b('AAAAAAAA'), 0, 8, Buffer.alloc(5))).toBe(-1);
  expect(decodeBase64Bytes(b('xxAAAAyy'), 2, 6, Buffer.alloc(3))).toBe(3);
});
