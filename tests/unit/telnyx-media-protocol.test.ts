import { MAX_FRAME_NUMBER_CHARS, parseInbound } from '../../src/lib/telnyx/media-protocol';

const media = (fields: Record<string, unknown>, mediaFields: Record<string, unknown> = {}) =>
  JSON.stringify({ event: 'media', ...fields, media: { track: 'inbound', payload: 'AAAA', ...mediaFields } });

describe('parseInbound', () => {
  it('reads Telnyx frames: string sequence numbers, inbound_track, start media_format', () => {
    expect(parseInbound(media({ sequence_number: '4' }, { chunk: '2', timestamp: '5', track: 'inbound_track' }))).toEqual({
      kind: 'media', streamId: undefined, track: 'inbound', seq: 4, chunk: 2, timestamp: 5, payloadB64: 'AAAA',
    });
    const start = parseInbound(JSON.stringify({ event: 'start', start: { media_format: { encoding: 'L16', sample_rate: 16000, channels: 1 } } }));
    expect(start).toMatchObject({ kind: 'start', encoding: 'L16', sampleRate: 16000, channels: 1 });
  });

  it('accepts frame numbers that are non-negative safe integers, as numbers or digit strings', () => {
    for (const [v, n] of [[0, 0], ['0', 0], ['007', 7], [2 ** 53 - 1, 2 ** 53 - 1], [String(2 ** 53 - 1), 2 ** 53 - 1]] as const) {
      expect(parseInbound(media({}, { chunk: v }))).toMatchObject({ kind: 'media', chunk: n });
      expect(parseInbound(media({ sequence_number: v }))).toMatchObject({ kind: 'media', seq: n });
    }
    // Absent (or null) is "unnumbered", not invalid.
    expect(parseInbound(media({ sequence_number: null }))).toMatchObject({ kind: 'media', seq: undefined, chunk: undefined });
  });

  const insane: unknown[] = [
    '99999999999999999999', 1e308, '1e308', -1, '-1', 1.5, '1.5', '1e3', '0x10', ' 7', '', 'NaN',
    2 ** 53, String(2 ** 53), true, {}, [], '9'.repeat(MAX_FRAME_NUMBER_CHARS + 1), ' '.repeat(60_000) + '7',
  ];
  it.each(insane.map((v) => [typeof v === 'string' && v.length > 30 ? `a ${v.length}-char string` : JSON.stringify(v), v]))(
    'a frame number %s that is not a sane count makes the media frame invalid', (_label, v) => {
    expect(parseInbound(media({}, { chunk: v }))).toEqual({ kind: 'invalid', reason: 'invalid_sequence' });
    expect(parseInbound(media({ sequence_number: v }))).toEqual({ kind: 'invalid', reason: 'invalid_sequence' });
    },
  );

  it('never calls into peer-built objects: a digit, mark name or error text that is not a string cannot throw', () => {
    const hostile = { toString: 1, valueOf: 1 };
    for (const frame of [
      { event: 'dtmf', dtmf: { digit: hostile } },
      { event: 'mark', mark: { name: hostile } },
      { event: 'error', payload: { code: hostile, title: hostile, detail: hostile } },
      { event: 'start', start: { media_format: { encoding: hostile, sample_rate: hostile } } },
      { event: 'media', media: { payload: hostile, track: hostile } },
    ]) {
      expect(() => parseInbound(JSON.stringify(frame))).not.toThrow();
    }
  });

  it('keeps only a single DTMF digit', () => {
    expect(parseInbound('{"event":"dtmf","dtmf":{"digit":"#"}}')).toEqual({ kind: 'dtmf', digit: '#' });
    expect(parseInbound('{"event":"dtmf","dtmf":{"digit":7}}')).toEqual({ kind: 'dtmf', digit: '7' });
    for (const digit of ['12', 'x', '', 10, null]) {
      expect(parseInbound(JSON.stringify({ event: 'dtmf', dtmf: { digit } }))).toEqual({ kind: 'invalid', reason: 'invalid_dtmf' });
    }
  });

  it('caps the length of error texts it passes on to the log', () => {
    const f = parseInbound(JSON.stringify({ event: 'error', payload: { code: 100002, title: 't'.repeat(50_000), detail: 'd'.repeat(50_000) } }));
    expect(f).toMatchObject({ kind: 'error', code: 100002 });
    if (f.kind !== 'error') throw new Error('not an error frame');
    expect(f.title!.length).toBeLessThanOrEqual(200);
    expect(f.detail!.length).toBeLessThanOrEqual(200);
  });

  it('reads a sample_rate that is not a short number as NaN, one no codec runs at (no Number() of a peer-sized string)', () => {
    for (const sampleRate of [' '.repeat(60_000) + '16000', 'abc', {}]) {
      const f = parseInbound(JSON.stringify({ event: 'start', start: { media_format: { encoding: 'L16', sample_rate: sampleRate } } }));
      expect(f).toMatchObject({ kind: 'start', sampleRate: Number.NaN });
    }
  });

  it.each([
    ['null'], ['[]'], ['"x"'], ['1'], ['true'], ['{}'], ['{"event":5}'], ['not json'], [''],
    ['30,000 nested arrays', '['.repeat(30_000) + ']'.repeat(30_000)],
    ['10,000 nested objects', '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000)],
  ])('%s is an invalid frame, not a throw', (label, text = label) => {
    expect(parseInbound(text)).toMatchObject({ kind: 'invalid' });
  });

  it('a start frame without media_format is PCMU (the Telnyx default)', () => {
    expect(parseInbound('{"event":"start","start":{}}')).toMatchObject({ kind: 'start', encoding: 'PCMU', sampleRate: undefined });
    expect(parseInbound('{"event":"start"}')).toMatchObject({ kind: 'start', encoding: 'PCMU' });
  });

  it('reads the compact Telnyx media frame exactly as the same frame with whitespace (the bytes reader is held to this parse in media-frame-bytes.test.ts)', () => {
    const p = Buffer.alloc(160, 0x7f).toString('base64');
    const canonical = [
      `{"event":"media","sequence_number":"4","stream_id":"32de0dea-53cb-4b21-89a4-9610d2bf6a6f","media":{"track":"inbound","chunk":"2","timestamp":"40","payload":"${p}"}}`,
      `{"event":"media","sequence_number":"4","media":{"track":"outbound","chunk":"2","timestamp":"40","payload":"${p}"},"stream_id":"s-1"}`,
      // Not a safe integer: the full parse refuses it, so must the fast path.
      `{"event":"media","sequence_number":"9999999999999999","stream_id":"s","media":{"track":"inbound","chunk":"2","timestamp":"40","payload":"${p}"}}`,
      // Payload not a multiple of 4 characters.
      `{"event":"media","sequence_number":"4","stream_id":"s","media":{"track":"inbound","chunk":"2","timestamp":"40","payload":"AAAAA"}}`,
    ];
    for (const text of canonical) {
      // The same message with a space after the first colon: not the compact form.
      const slow = parseInbound(text.replace('"event":', '"event": '));
      expect(parseInbound(text)).toEqual(slow);
    }
    expect(parseInbound(canonical[0]!)).toMatchObject({ kind: 'media', seq: 4, chunk: 2, timestamp: 40, track: 'inbound' });
    expect(parseInbound(canonical[2]!)).toMatchObject({ kind: 'invalid' });
  });
});
