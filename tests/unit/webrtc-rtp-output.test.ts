import type { RtpOut } from '../../src/media/webrtc/peer';
import { ManualTime } from '../../src/lib/manual-timers';
import { PlayoutScheduler } from '../../src/media/playout/pacer';
import { StreamPlayout } from '../../src/media/playout/playout';
import { RtpAudioOutput } from '../../src/media/webrtc/rtp-audio-output';

/** Manual time and timers: nothing here waits for real time. */
function setup() {
  const time = new ManualTime(1000);
  const sent: RtpOut[] = [];
  const played: string[] = [];
  const out = new RtpAudioOutput({ send: (p) => sent.push(p), now: () => time.now(), played: (n) => played.push(n), timers: time, random: () => 0.5 });
  const advance = (ms: number) => time.advance(ms);
  return { out, sent, played, advance, time };
}

const frame = new Uint8Array([0xfc, 1, 2, 3]);

describe('RtpAudioOutput', () => {
  it('numbers a talkspurt with consecutive sequence numbers and 960-tick timestamps, marker on its first packet', () => {
    const { out, sent } = setup();
    for (let i = 0; i < 3; i += 1) out.media(frame, 0);
    expect(sent.map((p) => [p.seq, p.timestamp, p.marker])).toEqual([
      [32768, 2147483648, true],
      [32769, 2147483648 + 960, false],
      [32770, 2147483648 + 1920, false],
    ]);
    expect(Buffer.from(sent[0]!.payload)).toEqual(Buffer.from(frame));
  });

  it('copies the payload (the encoder reuses its buffer)', () => {
    const { out, sent } = setup();
    const buf = new Uint8Array([1, 2, 3]);
    out.media(buf, 0);
    buf[0] = 9;
    expect(sent[0]!.payload[0]).toBe(1);
  });

  it('after silence, jumps the timestamp by the silence and marks the new talkspurt', () => {
    const { out, sent, advance } = setup();
    out.media(frame, 0); // plays 1000..1020
    advance(520); // 500 ms of silence after it
    out.media(frame, 500);
    expect(sent[1]!.seq).toBe(sent[0]!.seq + 1);
    expect(sent[1]!.timestamp - sent[0]!.timestamp).toBe(960 + 500 * 48);
    expect(sent[1]!.marker).toBe(true);
  });

  it('a packet of continuous audio sent late keeps the next timestamp and no marker', () => {
    const { out, sent, played, advance } = setup();
    out.media(frame, 0); // plays 1000..1020
    advance(520); // sent 500 ms late: the browser ran dry, but no audio is missing
    out.media(frame, 0);
    out.mark('m');
    expect(sent[1]!.timestamp - sent[0]!.timestamp).toBe(960);
    expect(sent[1]!.marker).toBe(false);
    advance(19);
    expect(played).toEqual([]); // it plays from 1520 to 1540
    advance(1);
    expect(played).toEqual(['m']);
  });

  it('wraps sequence numbers and timestamps', () => {
    let now = 0;
    const sent: RtpOut[] = [];
    const out = new RtpAudioOutput({ send: (p) => sent.push(p), now: () => now, played: () => undefined, random: () => 0.99999999 });
    out.media(frame, 0);
    out.media(frame, 0);
    now += 40;
    expect(sent[0]!.seq).toBe(65535);
    expect(sent[1]!.seq).toBe(0);
    expect(sent[1]!.timestamp).toBe((sent[0]!.timestamp + 960) % 2 ** 32);
  });

  it('reports a mark when the audio sent before it has played, not before', () => {
    const { out, played, advance } = setup();
    for (let i = 0; i < 3; i += 1) out.media(frame, 0); // sent at once: plays until 1060
    out.mark('t1-s0');
    advance(59);
    expect(played).toEqual([]);
    advance(1);
    expect(played).toEqual(['t1-s0']);
  });

  it('on clear, drops pending marks and starts the next packet as a new talkspurt that never repeats a timestamp', () => {
    const { out, sent, played, advance, time } = setup();
    for (let i = 0; i < 3; i += 1) out.media(frame, 0);
    out.mark('t1-s0');
    advance(10);
    out.clear();
    expect(time.pendingTimers).toBe(0);
    out.media(frame, 0);
    advance(1000);
    expect(played).toEqual([]);
    expect(sent[3]!.marker).toBe(true);
    expect(sent[3]!.timestamp).toBe(sent[2]!.timestamp + 960);
  });
});

describe('RtpAudioOutput behind the stream playout (the browser-call wiring)', () => {
  /** browser-call.ts's wiring: an OPUS playout at 48 kHz, 60 ms ahead, on manual time. */
  function wired(opts: { encodeMs?: number } = {}) {
    const time = new ManualTime(1000);
    const clock = new PlayoutScheduler(time);
    const sent: RtpOut[] = [];
    // Reading the clock per packet as the real output does; `encodeMs` is how much later each
    // packet of a burst reads it (a CPU-starved process encoding Opus frames one after another).
    let skew = 0;
    const out = new RtpAudioOutput({
      send: (p) => {
        sent.push(p);
        skew += opts.encodeMs ?? 0;
      },
      now: () => time.now() + skew,
      played: (name) => p.onMark(name),
      timers: time,
    });
    const p = new StreamPlayout({ output: out, encoding: 'OPUS', codecRate: 48000, maxAheadMs: 60, clock });
    const tone = (id: string, ms: number) => ({ id, samples: new Int16Array(48 * ms).fill(3000), sampleRate: 48000 });
    /** Timestamp steps between consecutive packets, with the marker of the later one. */
    const steps = () => sent.slice(1).map((s, i) => `${(s.timestamp - sent[i]!.timestamp) >>> 0}${s.marker ? ' M' : ''}`);
    return { time, p, sent, tone, steps };
  }

  it('keeps RTP timestamps consecutive when a stalled loop sends queued audio late (the jitter buffer absorbs lateness)', () => {
    const { time, p, sent, tone, steps } = wired();
    p.enqueue(tone('a', 300));
    p.enqueue(tone('b', 300));
    time.advance(100);
    time.stall(250); // the event loop blocked: the browser ran dry, but no audio was skipped
    time.advance(1000);
    expect(sent).toHaveLength(30);
    expect(sent[0]!.marker).toBe(true);
    expect(steps()).toEqual(Array(29).fill('960'));
  });

  it('keeps them consecutive when encoding the first burst takes longer than a frame', () => {
    const { time, p, sent, tone, steps } = wired({ encodeMs: 25 });
    p.enqueue(tone('a', 200));
    time.advance(500);
    expect(sent).toHaveLength(10);
    expect(steps()).toEqual(Array(9).fill('960'));
  });

  it('starts a new talkspurt when a segment arrives after the previous audio has played: the timestamp jumps by the silence', () => {
    const { time, p, sent, tone, steps } = wired();
    p.enqueue(tone('a', 100)); // plays 1000..1100
    time.advance(1000);
    expect(p.state).toBe('idle');
    p.enqueue(tone('b', 40)); // at 2000: 900 ms of silence
    time.advance(100);
    expect(sent).toHaveLength(7);
    expect(steps()).toEqual([...Array(4).fill('960'), `${960 + 900 * 48} M`, '960']);
  });
});
