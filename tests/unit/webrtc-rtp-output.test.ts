import type { RtpOut } from '../../src/media/webrtc/peer';
import { RtpAudioOutput, type Timers } from '../../src/media/webrtc/rtp-audio-output';

/** Manual time and timers: nothing here waits for real time. */
function setup() {
  let now = 1000;
  const timers: { at: number; fn: () => void; id: number }[] = [];
  let ids = 0;
  const t: Timers = {
    set: (fn, ms) => {
      ids += 1;
      timers.push({ at: now + ms, fn, id: ids });
      return ids;
    },
    clear: (h) => {
      const i = timers.findIndex((x) => x.id === h);
      if (i >= 0) timers.splice(i, 1);
    },
  };
  const sent: RtpOut[] = [];
  const played: string[] = [];
  const out = new RtpAudioOutput({ send: (p) => sent.push(p), now: () => now, played: (n) => played.push(n), timers: t, random: () => 0.5 });
  const advance = (ms: number) => {
    now += ms;
    for (const x of timers.filter((x) => x.at <= now).sort((a, b) => a.at - b.at)) {
      timers.splice(timers.indexOf(x), 1);
      x.fn();
    }
  };
  return { out, sent, played, advance, timers };
}

const frame = new Uint8Array([0xfc, 1, 2, 3]);

describe('RtpAudioOutput', () => {
  it('numbers a talkspurt with consecutive sequence numbers and 960-tick timestamps, marker on its first packet', () => {
    const { out, sent } = setup();
    for (let i = 0; i < 3; i += 1) out.media(frame);
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
    out.media(buf);
    buf[0] = 9;
    expect(sent[0]!.payload[0]).toBe(1);
  });

  it('after a pause, jumps the timestamp by the silence and marks the new talkspurt', () => {
    const { out, sent, advance } = setup();
    out.media(frame); // plays 1000..1020
    advance(520); // 500 ms of silence after it
    out.media(frame);
    expect(sent[1]!.seq).toBe(sent[0]!.seq + 1);
    expect(sent[1]!.timestamp - sent[0]!.timestamp).toBe(960 + 500 * 48);
    expect(sent[1]!.marker).toBe(true);
  });

  it('wraps sequence numbers and timestamps', () => {
    let now = 0;
    const sent: RtpOut[] = [];
    const out = new RtpAudioOutput({ send: (p) => sent.push(p), now: () => now, played: () => undefined, random: () => 0.99999999 });
    out.media(frame);
    out.media(frame);
    now += 40;
    expect(sent[0]!.seq).toBe(65535);
    expect(sent[1]!.seq).toBe(0);
    expect(sent[1]!.timestamp).toBe((sent[0]!.timestamp + 960) % 2 ** 32);
  });

  it('reports a mark when the audio sent before it has played, not before', () => {
    const { out, played, advance } = setup();
    for (let i = 0; i < 3; i += 1) out.media(frame); // sent at once: plays until 1060
    out.mark('t1-s0');
    advance(59);
    expect(played).toEqual([]);
    advance(1);
    expect(played).toEqual(['t1-s0']);
  });

  it('on clear, drops pending marks and starts the next packet as a new talkspurt that never repeats a timestamp', () => {
    const { out, sent, played, advance, timers } = setup();
    for (let i = 0; i < 3; i += 1) out.media(frame);
    out.mark('t1-s0');
    advance(10);
    out.clear();
    expect(timers).toHaveLength(0);
    out.media(frame);
    advance(1000);
    expect(played).toEqual([]);
    expect(sent[3]!.marker).toBe(true);
    expect(sent[3]!.timestamp).toBe(sent[2]!.timestamp + 960);
  });
});
