import { createEncoder } from '../../src/media/audio/codecs';
import { createLogger } from '../../src/lib/logger';
import { createMetrics } from '../../src/lib/metrics';
import { MediaSession, type MediaSessionDeps } from '../../src/media/session/media-session';
import { StreamTransport } from '../../src/media/session/stream-transport';

function setup(overrides: Partial<MediaSessionDeps> = {}) {
  let now = 0;
  const restarts: { codec: string; reason: string }[] = [];
  const pushed: { samples: number; rate: number }[] = [];
  const dtmf: string[] = [];
  const deps: MediaSessionDeps = {
    health: { enabled: true, restartEnabled: true, startGraceMs: 1000, postPlaybackGraceMs: 1000, minAudioMsSincePlaybackEnd: 2000 },
    decodeFailuresBeforeFallback: 3,
    amrwbMinDecodedBytes: 320,
    l16ByteOrder: 'be',
    maxRestarts: 3,
    streamControl: { restart: async (_id, codec, reason) => void restarts.push({ codec, reason }) },
    sink: { pushPcm: (pcm, rate) => void pushed.push({ samples: pcm.length, rate }), close() {} },
    events: { dtmf: (d) => void dtmf.push(d) },
    metrics: createMetrics({ defaultMetrics: false }),
    logger: createLogger({ level: 'silent' }),
    now: () => now,
    ...overrides,
  };
  const sent: string[] = [];
  const session = new MediaSession('call-1', { send: (t) => void sent.push(t), close() {} }, deps);
  const start = (encoding: string, sampleRate: number) =>
    session.handleMessage(JSON.stringify({ event: 'start', start: { media_format: { encoding, sample_rate: sampleRate } } }));
  let seq = 0;
  const media = (payload: Uint8Array | string) =>
    session.handleMessage(
      JSON.stringify({ event: 'media', sequence_number: String(++seq), media: { track: 'inbound_track', chunk: seq, payload: typeof payload === 'string' ? payload : Buffer.from(payload).toString('base64') } }),
    );
  return { session, restarts, pushed, dtmf, start, media, advance: (ms: number) => (now += ms), deps };
}

const pcmuFrame = () => Uint8Array.from(createEncoder('PCMU').encode(new Int16Array(160).fill(1000)));

describe('MediaSession', () => {
  it('decodes in order, accepts liberal names (audio/x-mulaw, inbound_track, numeric chunks)', () => {
    const t = setup();
    t.start('audio/x-mulaw', 8000);
    for (let i = 0; i < 5; i += 1) t.media(pcmuFrame());
    expect(t.pushed).toEqual(Array(5).fill({ samples: 160, rate: 8000 }));
    expect(t.restarts).toEqual([]);
  });

  it('fills a lost frame with silence of the right length', () => {
    const t = setup();
    t.start('PCMU', 8000);
    const msg = (chunk: number) => JSON.stringify({ event: 'media', media: { track: 'inbound', chunk: String(chunk), payload: Buffer.from(pcmuFrame()).toString('base64') } });
    for (const c of [1, 2, 4, 5, 6]) t.session.handleMessage(msg(c));
    expect(t.pushed).toHaveLength(6);
  });

  it('TELNYX_INGEST_DECODE_FAILURES_BEFORE_FALLBACK: N consecutive undecodable frames re-request PCMU', () => {
    for (const n of [2, 4]) {
      const t = setup({ decodeFailuresBeforeFallback: n });
      t.start('OPUS', 16000);
      for (let i = 0; i < n - 1; i += 1) t.media(new Uint8Array([0xff, 0xff, 0xff]));
      expect(t.restarts).toEqual([]);
      t.media(new Uint8Array([0xff, 0xff, 0xff]));
      expect(t.restarts).toEqual([{ codec: 'PCMU', reason: 'codec_fallback' }]);
    }
  });

  it('TELNYX_AMRWB_MIN_DECODED_BYTES: an AMR-WB frame decoding to fewer bytes counts as a failure', () => {
    // A NO_DATA frame (FT 15) decodes to nothing useful; a high minimum makes even good frames fail.
    const t = setup({ amrwbMinDecodedBytes: 100_000, decodeFailuresBeforeFallback: 2 });
    t.start('AMR-WB', 16000);
    const sid = new Uint8Array([0xf0, 0x44, ...new Uint8Array(60)]); // CMR + ToC(mode 8) + payload
    t.media(sid);
    t.media(sid);
    expect(t.pushed).toEqual([]);
    expect(t.restarts).toEqual([{ codec: 'PCMU', reason: 'codec_fallback' }]);
    const ok = setup({ amrwbMinDecodedBytes: 320, decodeFailuresBeforeFallback: 2 });
    ok.start('AMR-WB', 16000);
    ok.media(sid);
    ok.media(sid);
    expect(ok.pushed).toEqual([{ samples: 320, rate: 16000 }, { samples: 320, rate: 16000 }]);
    expect(ok.restarts).toEqual([]);
  });

  it('TELNYX_INGEST_HEALTH_RESTART_ENABLED: a stalled stream is restarted only when enabled, a bounded number of times', () => {
    const on = setup();
    on.start('PCMU', 8000);
    on.advance(1001);
    on.session.tick(1001);
    expect(on.restarts).toEqual([{ codec: 'PCMU', reason: 'stalled_at_start' }]);
    const off = setup({ health: { enabled: true, restartEnabled: false, startGraceMs: 1000, postPlaybackGraceMs: 1000, minAudioMsSincePlaybackEnd: 2000 } });
    off.start('PCMU', 8000);
    off.session.tick(5000);
    expect(off.restarts).toEqual([]);
    const capped = setup({ maxRestarts: 0 });
    capped.start('PCMU', 8000);
    capped.session.tick(5000);
    expect(capped.restarts).toEqual([]);
  });

  it('a stall after our playback ends triggers a restart', () => {
    const t = setup();
    t.start('PCMU', 8000);
    t.media(pcmuFrame());
    t.session.onPlaybackEnded();
    t.session.tick(900);
    expect(t.restarts).toEqual([]);
    t.session.tick(1001);
    expect(t.restarts).toEqual([{ codec: 'PCMU', reason: 'stalled_after_playback' }]);
  });

  it('an unsupported encoding falls back to PCMU; DTMF frames reach the listener', () => {
    const t = setup();
    t.start('SPEEX', 8000);
    expect(t.restarts).toEqual([{ codec: 'PCMU', reason: 'codec_fallback' }]);
    t.session.handleMessage(JSON.stringify({ event: 'dtmf', dtmf: { digit: '7' } }));
    expect(t.dtmf).toEqual(['7']);
  });

  it('decodes compact frames read from the socket bytes, in order and reordered, as the text path does', () => {
    const t = setup();
    const transport = new StreamTransport({ send: () => undefined, close() {} }, () => t.session);
    transport.open(t.deps.sink, { dtmf: () => undefined, started: () => undefined, played: () => undefined, closed: () => undefined } as never);
    t.start('PCMU', 8000);
    const samples = new Int16Array(160).map((_, i) => Math.round(8000 * Math.sin(i / 5)));
    const payload = Buffer.from(createEncoder('PCMU').encode(samples)).toString('base64');
    const compact = (chunk: number) =>
      Buffer.from(`{"event":"media","sequence_number":"${chunk}","stream_id":"s-1","media":{"track":"inbound","chunk":"${chunk}","timestamp":"${chunk * 20}","payload":"${payload}"}}`);
    const got: Int16Array[] = [];
    t.deps.sink.pushPcm = (pcm) => void got.push(pcm.slice());
    for (const c of [1, 2, 4, 3, 5]) {
      const msg = compact(c);
      transport.receive(msg);
      msg.fill(0x20); // the socket's buffer is not ours: a held frame must not depend on it
    }
    expect(got).toHaveLength(5);
    const want = createEncoder('PCMU').encode(samples);
    for (const pcm of got) expect(Buffer.from(createEncoder('PCMU').encode(pcm)).equals(Buffer.from(want))).toBe(true);
    // Anything that is not a compact frame (here a DTMF event) still reaches the full parse.
    transport.receive(Buffer.from('{"event":"dtmf","dtmf":{"digit":"7"}}'));
    expect(t.dtmf).toEqual(['7']);
  });
});
