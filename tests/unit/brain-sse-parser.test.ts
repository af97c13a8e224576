import { decodeBrainEvent, SseParser, type SseEvent } from '../../src/lib/brain/sse-parser';

function parse(chunks: (Buffer | string)[], end = true) {
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const p = new SseParser({ onEvent: (e) => events.push(e), onComment: (c) => comments.push(c) });
  for (const c of chunks) p.push(c);
  if (end) p.end();
  return { events, comments };
}

const STREAM = [
  ': hello comment',
  'event: token',
  'data: {"t":"Héllo 👋"}',
  '',
  'event: ping',
  'data: {}',
  '',
  'event: token',
  'data:{"t":" wörld"}',
  '',
  'event: done',
  'data: {"text":"Héllo 👋 wörld",',
  'data: "transfer":{"to":"+15551234567"}}',
  '',
  '',
].join('\n');

const EXPECTED: SseEvent[] = [
  { event: 'token', data: '{"t":"Héllo 👋"}' },
  { event: 'ping', data: '{}' },
  { event: 'token', data: '{"t":" wörld"}' },
  { event: 'done', data: '{"text":"Héllo 👋 wörld",\n"transfer":{"to":"+15551234567"}}' },
];

describe('SseParser', () => {
  it('parses events, multi-line data, comments', () => {
    const { events, comments } = parse([STREAM]);
    expect(events).toEqual(EXPECTED);
    expect(comments).toEqual([' hello comment']);
  });

  it.each([
    ['LF', '\n'],
    ['CRLF', '\r\n'],
    ['CR', '\r'],
  ])('gives the same events for every 2-way split of the bytes (%s)', (_name, nl) => {
    const bytes = Buffer.from(STREAM.replace(/\n/g, nl), 'utf8');
    for (let cut = 0; cut <= bytes.length; cut += 1) {
      const { events } = parse([bytes.subarray(0, cut), bytes.subarray(cut)], false);
      expect(events).toEqual(EXPECTED);
    }
  });

  it('handles one byte per chunk, CRLF split between CR and LF, and multibyte characters split', () => {
    const bytes = Buffer.from(STREAM.replace(/\n/g, '\r\n'), 'utf8');
    const chunks = Array.from(bytes, (b) => Buffer.from([b]));
    expect(parse(chunks, false).events).toEqual(EXPECTED);
  });

  it('CRLF never yields a spurious blank line (no double dispatch, no lost data)', () => {
    const { events } = parse(['event: token\r', '\ndata: a\r', '\n', 'data: b\r\n\r\n']);
    expect(events).toEqual([{ event: 'token', data: 'a\nb' }]);
  });

  it('ignores unknown fields and retry, keeps unknown event types, strips one leading space only', () => {
    const { events } = parse(['retry: 10\nfoo: bar\nevent: meta\ndata:  two spaces\nid: 7\n\ndata\n\n']);
    expect(events).toEqual([
      { event: 'meta', data: ' two spaces', id: '7' },
      { event: 'message', data: '', id: '7' },
    ]);
  });

  it('skips blank lines without data; dispatches a bare `event:` (lenient); strips a BOM', () => {
    const { events } = parse(['\uFEFF\n\n\nevent: done\n\n']);
    expect(events).toEqual([{ event: 'done', data: '' }]);
  });

  it('end() dispatches an unterminated last event; without end() it stays pending', () => {
    expect(parse(['event: done\ndata: {"text":"x"}'], false).events).toEqual([]);
    expect(parse(['event: done\ndata: {"text":"x"}']).events).toEqual([{ event: 'done', data: '{"text":"x"}' }]);
  });

  it('refuses a runaway line', () => {
    const p = new SseParser({ onEvent: () => undefined }, { maxLineChars: 10 });
    expect(() => p.push('data: 0123456789abc')).toThrow(/longer than 10/);
  });
});

describe('decodeBrainEvent', () => {
  const ev = (event: string, data: string) => decodeBrainEvent({ event, data });

  it('decodes tokens in the contract shape and tolerant variants', () => {
    expect(ev('token', '{"t":"Hi"}')).toEqual({ type: 'token', text: 'Hi' });
    expect(ev('token', '{"token":"a"}')).toEqual({ type: 'token', text: 'a' });
    expect(ev('token', '"b"')).toEqual({ type: 'token', text: 'b' });
    expect(ev('token', 'raw text')).toEqual({ type: 'token', text: 'raw text' });
    expect(ev('token', '{"x":1}')).toEqual({ type: 'token', text: '' });
  });

  it('decodes done with text and a validated transfer', () => {
    expect(ev('done', '')).toEqual({ type: 'done' });
    expect(ev('done', '{"text":"Bye","transfer":{"to":"+15550001111","timeoutSecs":30,"audioUrl":""}}')).toEqual({
      type: 'done',
      text: 'Bye',
      transfer: { to: '+15550001111', timeoutSecs: 30 },
    });
    expect(ev('done', '{"transfer":{"to":""}}')).toEqual({ type: 'done' });
  });

  it('decodes errors; ignores ping, meta and unknown events', () => {
    expect(ev('error', '{"message":"boom"}')).toEqual({ type: 'error', message: 'boom' });
    expect(ev('error', 'plain')).toEqual({ type: 'error', message: 'plain' });
    expect(ev('ping', '{}')).toEqual({ type: 'ignored', event: 'ping' });
    expect(ev('meta', '{"model":"x"}')).toEqual({ type: 'ignored', event: 'meta' });
    expect(ev('message', '{"t":"x"}')).toEqual({ type: 'ignored', event: 'message' });
  });
});
