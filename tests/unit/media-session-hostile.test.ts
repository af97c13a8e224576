import { createEncoder } from '../../src/media/audio/codecs';
import { createLogger } from '../../src/lib/logger';
import { createMetrics } from '../../src/lib/metrics';
import { MAX_GAP_FILL_FRAMES, MAX_GAP_FRAME_MS, MediaSession, type MediaSessionDeps } from '../../src/media/session/media-session';
import { StreamTransport } from '../../src/media/session/stream-transport';
import { rng } from '../support/audio-signals';

/**
 * Hostile input on the Telnyx media path: whatever a peer sends, MediaSession.handleMessage never
 * throws, never loops over a peer-chosen number and emits bounded silence. Work is measured by
 * counting what reaches the sink, never by wall time; the sink fails the test once it has been fed
 * more than any bounded implementation could feed it (so an unbounded loop fails instead of hanging).
 */

/** More pushes than any test here can cause with bounded gap fill. */
const SINK_BUDGET = 200_000;

function setup(opts: { sinkThrows?: boolean } = {}) {
  const pushes: { samples: number; rate: number; silent: boolean }[] = [];
  const closes: { code: number; reason: string }[] = [];
  const logs: { level: string; msg: string }[] = [];
  const metrics = createMetrics({ defaultMetrics: false });
  const deps: MediaSessionDeps = {
    health: { enabled: true, restartEnabled: true, startGraceMs: 1000, postPlaybackGraceMs: 1000, minAudioMsSincePlaybackEnd: 2000 },
    decodeFailuresBeforeFallback: 3,
    amrwbMinDecodedBytes: 320,
    l16ByteOrder: 'be',
    maxRestarts: 3,
    streamControl: { restart: async () => undefined },
    sink: {
      pushPcm(pcm, rate) {
        if (opts.sinkThrows) throw new Error('sink failed');
        if (pushes.length >= SINK_BUDGET) throw new Error(`unbounded: more than ${SINK_BUDGET} frames pushed`);
        pushes.push({ samples: pcm.length, rate, silent: pcm.every((v) => v === 0) });
      },
      close() {},
    },
    events: { dtmf: () => undefined },
    metrics,
    logger: createLogger({ level: 'warn', destination: { write: (s: string) => void logs.push(JSON.parse(s)) } }),
    now: () => 0,
  };
  const session = new MediaSession('call-1', { send() {}, close: (code, reason) => void closes.push({ code, reason }) }, deps);
  const send = (frame: unknown) => session.handleMessage(typeof frame === 'string' ? frame : JSON.stringify(frame));
  const counts = async () => {
    const { values } = await metrics.mediaFrames.get();
    return Object.fromEntries(values.map((v) => [v.labels.outcome, v.value])) as Record<string, number>;
  };
  return { session, send, pushes, closes, logs, counts };
}

const PCMU_FRAME = Buffer.from(createEncoder('PCMU').encode(new Int16Array(160).fill(1000))).toString('base64');
const start = (encoding = 'PCMU', sampleRate: unknown = 8000) => ({ event: 'start', start: { media_format: { encoding, sample_rate: sampleRate, channels: 1 } } });
const media = (chunk: unknown, payload = PCMU_FRAME) => ({ event: 'media', media: { track: 'inbound', chunk, payload } });

describe('MediaSession: frame numbers a peer picks', () => {
  it.each([1e4, 1e5, 1e9, 2 ** 53 - 100])('a chunk jump of %d resyncs with at most MAX_GAP_FILL_FRAMES of silence', async (jump) => {
    const t = setup();
    t.send(start());
    for (const c of [1, 2, 3, 3 + jump, 4 + jump]) t.send(media(String(c)));
    const gaps = t.pushes.filter((p) => p.silent);
    expect(gaps.length).toBe(MAX_GAP_FILL_FRAMES);
    expect(t.pushes.length).toBe(5 + MAX_GAP_FILL_FRAMES);
    expect(await t.counts()).toMatchObject({ decoded: 5, gap_filled: MAX_GAP_FILL_FRAMES, resync: 1 });
  });

  it.each([['99999999999999999999'], [1e308], ['1e308'], [-5], [2.5], ['12abc']])('chunk %j is counted invalid and dropped; the stream goes on', async (bad) => {
    const t = setup();
    t.send(start());
    t.send(media('1'));
    t.send(media(bad));
    t.send(media('2'));
    expect(t.pushes).toHaveLength(2);
    expect(await t.counts()).toMatchObject({ decoded: 2, invalid: 1 });
  });

  it('a stream that starts numbering from 1 again resyncs after three frames instead of going silent for good', async () => {
    const t = setup();
    t.send(start());
    for (let c = 5000; c < 5005; c += 1) t.send(media(c));
    for (let c = 1; c <= 20; c += 1) t.send(media(c));
    // 1 and 2 are dropped as late, 3 resyncs, 3..20 play.
    expect(t.pushes).toHaveLength(5 + 18);
    expect(await t.counts()).toMatchObject({ decoded: 23, late: 2, resync: 1 });
  });

  it('a second start frame starts a new numbering', async () => {
    const t = setup();
    t.send(start());
    for (const c of [100, 101, 102]) t.send(media(c));
    t.send(start());
    for (const c of [1, 2, 3]) t.send(media(c));
    expect(t.pushes.filter((p) => !p.silent)).toHaveLength(6);
    expect((await t.counts()).late).toBeUndefined();
  });

  it('unnumbered frames play in arrival order', () => {
    const t = setup();
    t.send(start());
    for (let i = 0; i < 5; i += 1) t.send({ event: 'media', media: { track: 'inbound', payload: PCMU_FRAME } });
    expect(t.pushes).toHaveLength(5);
    expect(t.pushes.every((p) => !p.silent)).toBe(true);
  });

  it('a lost frame next to a huge one is concealed with at most MAX_GAP_FRAME_MS of silence', () => {
    const t = setup();
    t.send(start());
    const big = Buffer.from(createEncoder('PCMU').encode(new Int16Array(48_000).fill(1000))).toString('base64'); // 6 s, 64 KB as base64
    t.send(media(1, big));
    t.send(media(3));
    t.send(media(4));
    t.send(media(5));
    const gap = t.pushes.filter((p) => p.silent);
    expect(gap).toHaveLength(1);
    expect(gap[0]!.samples).toBeLessThanOrEqual((8000 * MAX_GAP_FRAME_MS) / 1000);
  });
});

describe('MediaSession: L16 sample rates', () => {
  it.each([[1], [1600003], [44100], [0], [-16000], ['1e9'], ['abc']])('an L16 start with sample_rate %j closes the socket with 1003 and a warning', async (rate) => {
    const t = setup();
    expect(() => t.send(start('L16', rate))).not.toThrow();
    expect(t.closes).toEqual([{ code: 1003, reason: 'unsupported L16 sample rate' }]);
    expect(t.logs.some((l) => l.level === 'warn' && /L16 sample rate/.test(l.msg))).toBe(true);
    t.send(media(1));
    expect(t.pushes).toEqual([]);
    expect(await t.counts()).toMatchObject({ start_rejected: 1 });
  });

  it.each([[8000], [16000], [22050], [24000], [48000], ['16000'], [undefined]])('an L16 start with sample_rate %j streams', (rate) => {
    const t = setup();
    t.send(start('L16', rate));
    t.send(media(1, Buffer.alloc(((Number(rate ?? 8000)) / 50) * 2, 1).toString('base64')));
    expect(t.closes).toEqual([]);
    expect(t.pushes).toEqual([{ samples: Number(rate ?? 8000) / 50, rate: Number(rate ?? 8000), silent: false }]);
  });
});

describe('MediaSession: malformed and out-of-order frames', () => {
  it.each([
    ['null', 'null', 'invalid'],
    ['an array', '[]', 'invalid'],
    ['a string', '"x"', 'invalid'],
    ['a number', '1', 'invalid'],
    ['not JSON', '{"event":', 'invalid'],
    ['deeply nested JSON', '['.repeat(30_000) + ']'.repeat(30_000), 'invalid'],
    ['deeply nested media', '{"event":"media","media":' + '{"a":'.repeat(30_000) + '1' + '}'.repeat(30_001), 'invalid'],
    ['bad base64', JSON.stringify(media(1, '!!!!')), 'invalid'],
    ['base64 with a bad length', JSON.stringify(media(1, 'AAA')), 'invalid'],
    ['an unknown event', '{"event":"surprise"}', 'unknown_event'],
    ['a DTMF digit that is an object with toString', '{"event":"dtmf","dtmf":{"digit":{"toString":1}}}', 'invalid'],
    ['a mark name that is an object with toString', '{"event":"mark","mark":{"name":{"toString":1}}}', undefined],
  ])('%s is counted and ignored without a throw', async (_name, text, outcome) => {
    const t = setup();
    t.send(start());
    expect(() => t.session.handleMessage(text)).not.toThrow();
    t.send(media(1));
    expect(t.pushes).toHaveLength(1);
    expect(t.closes).toEqual([]);
    if (outcome) expect((await t.counts())[outcome]).toBe(1);
  });

  it('a payload decoding past 64 KB is a decode failure', async () => {
    const t = setup();
    t.send(start());
    t.send(media(1, Buffer.alloc(70_000, 0x55).toString('base64')));
    expect(t.pushes).toEqual([]);
    expect(await t.counts()).toMatchObject({ decode_failed: 1 });
  });

  it('media before start assumes PCMU; a start without media_format is PCMU', () => {
    const before = setup();
    before.send(media(1));
    expect(before.pushes).toEqual([{ samples: 160, rate: 8000, silent: false }]);
    const bare = setup();
    bare.send({ event: 'start', start: {} });
    bare.send(media(1));
    expect(bare.pushes).toEqual([{ samples: 160, rate: 8000, silent: false }]);
  });

  it('media after stop is counted as not_streaming and dropped', async () => {
    const t = setup();
    t.send(start());
    t.send(media(1));
    t.send({ event: 'stop' });
    t.send(media(2));
    t.send(media(100_000));
    expect(t.pushes).toHaveLength(1);
    expect(await t.counts()).toMatchObject({ decoded: 1, not_streaming: 2 });
  });

  it('a failing sink does not throw out of handleMessage; it is counted and logged once', async () => {
    const t = setup({ sinkThrows: true });
    t.send(start());
    for (let c = 1; c <= 5; c += 1) expect(() => t.send(media(c))).not.toThrow();
    expect(await t.counts()).toMatchObject({ handler_error: 5 });
    expect(t.logs.filter((l) => l.level === 'error')).toHaveLength(1);
  });
});

describe('MediaSession: seeded mutation corpus', () => {
  /** Values that have broken parsers before: wrong types, huge numbers, prototype tricks. */
  const HOSTILE: unknown[] = [
    null, true, 0, -1, 1.5, 1e308, -1e308, 2 ** 53, 2 ** 53 - 1, '', ' ', '0', '-0', '1e308', '99999999999999999999', '0x1F', 'NaN',
    'Infinity', [], [1], {}, { toString: 1 }, { valueOf: 1, toString: 1 }, '!!!!', 'AAAA', 'A'.repeat(4096), '9'.repeat(300),
    'L16', 'l16', 'audio/L16;rate=1', 'OPUS', 'AMR-WB', 'G722', 'PCMA', 'SPEEX', 1, 1600003, 22050, 48000,
  ];
  const TEMPLATES = [
    () => ({ event: 'connected', version: '1.0.0' }),
    () => start(),
    () => start('L16', 16000),
    () => ({ event: 'media', sequence_number: '5', stream_id: 's', media: { track: 'inbound', chunk: '3', timestamp: '60', payload: PCMU_FRAME } }),
    () => ({ event: 'dtmf', dtmf: { digit: '5' } }),
    () => ({ event: 'mark', mark: { name: 'm1' } }),
    () => ({ event: 'error', payload: { code: 100002, title: 't', detail: 'd' } }),
    () => ({ event: 'stop', stop: { call_control_id: 'c' } }),
  ];

  /** Paths to every leaf and object of a frame. */
  function paths(v: unknown, at: string[] = [], out: string[][] = []): string[][] {
    out.push(at);
    if (typeof v === 'object' && v !== null) for (const k of Object.keys(v)) paths((v as Record<string, unknown>)[k], [...at, k], out);
    return out;
  }

  function mutate(frame: Record<string, unknown>, r: () => number): string {
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    const all = paths(frame).filter((p) => p.length > 0);
    const p = pick(all);
    const parent = p.slice(0, -1).reduce<Record<string, unknown>>((o, k) => o[k] as Record<string, unknown>, frame);
    const key = p[p.length - 1]!;
    switch (Math.floor(r() * 6)) {
      case 0:
        parent[key] = pick(HOSTILE);
        break;
      case 1:
        delete parent[key];
        break;
      case 2: {
        const text = JSON.stringify(frame);
        return text.slice(0, Math.floor(r() * text.length)); // truncated
      }
      case 3: {
        const text = JSON.stringify(frame);
        const i = Math.floor(r() * text.length);
        return text.slice(0, i) + String.fromCharCode(Math.floor(r() * 128)) + text.slice(i + 1); // one byte flipped
      }
      case 4:
        // Frame numbers anywhere, the attack that froze the process.
        parent[key] = pick([Math.floor(r() * 2 ** 53), String(Math.floor(r() * 1e6)), Math.floor(r() * 20)]);
        break;
      default:
        frame.event = pick(['MEDIA', 'Start', 'stop', 'media', 'start', 'clear', 'x'.repeat(1000)]);
    }
    return JSON.stringify(frame);
  }

  it.each([[1], [2], [3], [4]])('seed %i: 3000 mutated frames never throw, and silence stays bounded per frame', async (seed) => {
    const r = rng(seed);
    let t = setup();
    let fed = 0;
    let gapFramesSeen = 0;
    for (let i = 0; i < 3000; i += 1) {
      if (t.closes.length > 0) {
        // A rejected start closed the socket: a new connection for the same call.
        gapFramesSeen += (await t.counts()).gap_filled ?? 0;
        t = setup();
      }
      const base = TEMPLATES[Math.floor(r() * TEMPLATES.length)]!() as Record<string, unknown>;
      const text = r() < 0.3 ? JSON.stringify(base) : mutate(base, r);
      expect(() => t.session.handleMessage(text)).not.toThrow();
      fed += 1;
    }
    const c = await t.counts();
    gapFramesSeen += c.gap_filled ?? 0;
    expect(c.handler_error).toBeUndefined();
    expect(gapFramesSeen).toBeLessThanOrEqual(fed * MAX_GAP_FILL_FRAMES);
    for (const p of t.pushes.filter((x) => x.silent)) expect(p.samples).toBeLessThanOrEqual((p.rate * MAX_GAP_FRAME_MS) / 1000);
  });
});

describe('MediaSession: Telnyx error frames', () => {
  it('logs the first few of a flood and counts them all', async () => {
    const t = setup();
    t.send(start());
    for (let i = 0; i < 500; i += 1) t.send({ event: 'error', payload: { code: 100002, title: 'flood', detail: String(i) } });
    expect(t.logs.filter((l) => l.msg.startsWith('media stream error from Telnyx'))).toHaveLength(5);
    expect((await t.counts()).error_event).toBe(500);
  });
});

describe('MediaSession: hostile compact frames read from the socket bytes (StreamTransport)', () => {
  /** The session above behind a transport, fed bytes as the socket hands them over. */
  function viaBytes() {
    const t = setup();
    const transport = new StreamTransport({ send() {}, close() {} }, () => t.session);
    transport.open({ pushPcm() {}, close() {} }, { started() {}, played() {}, dtmf() {}, ended() {} }); // the session has its own sink
    const bytes = (text: string) => transport.receive(Buffer.from(text, 'utf8'));
    const compact = (chunk: string, payload = PCMU_FRAME, seq = chunk) =>
      `{"event":"media","sequence_number":"${seq}","stream_id":"s","media":{"track":"inbound","chunk":"${chunk}","timestamp":"0","payload":"${payload}"}}`;
    bytes(JSON.stringify(start()));
    return { ...t, bytes, compact };
  }

  it('a chunk jump to 2^53 − 100 resyncs with bounded silence, as the text path does', () => {
    const t = viaBytes();
    t.bytes(t.compact('1'));
    t.bytes(t.compact(String(2 ** 53 - 100)));
    t.bytes(t.compact(String(2 ** 53 - 99)));
    expect(t.pushes.filter((p) => !p.silent)).toHaveLength(3);
    expect(t.pushes.filter((p) => p.silent).length).toBeLessThanOrEqual(MAX_GAP_FILL_FRAMES);
  });

  it('unsafe or over-long numbers and malformed payloads are counted invalid or failed, never thrown', async () => {
    const t = viaBytes();
    t.bytes(t.compact('99999999999999999999'));
    t.bytes(t.compact('1', PCMU_FRAME, '123456789012345678'));
    t.bytes(t.compact('2', 'AA=A'));
    t.bytes(t.compact('3', '!!!!'));
    t.bytes('{"event":"media","sequence_number":"4","stream_id":"s","media":{"track":"inbound","chunk":"4"');
    expect(t.pushes).toEqual([]);
    expect((await t.counts()).invalid).toBeGreaterThanOrEqual(4);
  });

  it('a compact payload decoding past 64 KB is a decode failure', async () => {
    const t = viaBytes();
    t.bytes(t.compact('1', Buffer.alloc(70_000, 0x55).toString('base64')));
    expect(t.pushes).toEqual([]);
    expect(await t.counts()).toMatchObject({ decode_failed: 1 });
  });
});
