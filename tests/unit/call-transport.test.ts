/**
 * The CallTransport contract (src/media/ports.ts) on both implementations: the Telnyx media stream
 * (StreamTransport over a real MediaSession) and the browser connection (WebrtcTransport over a fake
 * peer, real Opus codec, real RTP input and output). Audio in reaches the sink, audio out is framed
 * for the wire, a playout confirmation reaches the playout in at most two calls, DTMF, and close
 * ends the transport once.
 */
import { createEncoder } from '../../src/media/audio/codecs';
import { createLogger } from '../../src/lib/logger';
import { createMetrics } from '../../src/lib/metrics';
import { ManualTime } from '../../src/lib/manual-timers';
import type { InboundAudioSink, TransportEvents } from '../../src/media/ports';
import { MediaSession } from '../../src/media/session/media-session';
import { StreamTransport } from '../../src/media/session/stream-transport';
import type { Peer, PeerHandlers, RtpOut } from '../../src/media/webrtc/peer';
import { WebrtcTransport } from '../../src/media/webrtc/webrtc-transport';

const logger = createLogger({ level: 'silent' });

/** What the transport reported, and the call stack above each confirmation (to count its hops). */
function recorder() {
  const seen = { pcm: [] as { samples: number; rate: number }[], sinkClosed: 0, started: 0, played: [] as string[], playedStacks: [] as string[][], dtmf: [] as string[], links: [] as string[], ended: [] as string[] };
  const sink: InboundAudioSink = {
    pushPcm: (pcm, rate) => void seen.pcm.push({ samples: pcm.length, rate }),
    close: () => void (seen.sinkClosed += 1),
  };
  const events: TransportEvents = {
    started: () => void (seen.started += 1),
    // Stands in for the playout's onMark: the frames above it are the hops a confirmation took.
    played: function onMark(name: string) {
      seen.played.push(name);
      seen.playedStacks.push((new Error().stack ?? '').split('\n').slice(2, 4));
    },
    dtmf: (d) => void seen.dtmf.push(d),
    link: (l) => void seen.links.push(l),
    ended: (r) => void seen.ended.push(r),
  };
  return { seen, sink, events };
}

describe('StreamTransport (Telnyx media stream)', () => {
  function setup() {
    const r = recorder();
    const sent: string[] = [];
    const closes: { code: number; reason: string }[] = [];
    const socket = { send: (t: string) => void sent.push(t), close: (code: number, reason: string) => void closes.push({ code, reason }) };
    const transport = new StreamTransport(socket, (s, sink, events, restartsSoFar) =>
      new MediaSession('call-1', s, {
        health: { enabled: false, restartEnabled: false, startGraceMs: 1000, postPlaybackGraceMs: 1000, minAudioMsSincePlaybackEnd: 2000 },
        decodeFailuresBeforeFallback: 3, amrwbMinDecodedBytes: 320, l16ByteOrder: 'be', maxRestarts: 3,
        streamControl: { restart: async () => undefined },
        sink, events, metrics: createMetrics({ defaultMetrics: false }), logger, now: () => 0,
      }, restartsSoFar));
    return { ...r, sent, closes, transport };
  }
  const start = JSON.stringify({ event: 'start', start: { media_format: { encoding: 'PCMU', sample_rate: 8000 } } });
  const media = (chunk: number) =>
    JSON.stringify({ event: 'media', media: { track: 'inbound', chunk: String(chunk), payload: Buffer.from(createEncoder('PCMU').encode(new Int16Array(160))).toString('base64') } });

  it('delivers nothing before open; after Telnyx `start` the decoded audio reaches the sink', () => {
    const t = setup();
    t.transport.receive(start);
    expect(t.seen.started).toBe(0);
    t.transport.open(t.sink, t.events);
    t.transport.receive(start);
    t.transport.receive(media(1));
    t.transport.receive(media(2));
    expect(t.seen.started).toBe(1);
    expect(t.seen.links).toEqual(['up']);
    expect(t.seen.pcm).toEqual([{ samples: 160, rate: 8000 }, { samples: 160, rate: 8000 }]);
  });

  it('frames audio out as Telnyx media-stream JSON: media (base64), mark, clear', () => {
    const t = setup();
    t.transport.audioOut.media(new Uint8Array([1, 2, 3]), 0);
    t.transport.audioOut.mark('seg-1');
    t.transport.audioOut.clear();
    expect(t.sent.map((x) => JSON.parse(x))).toEqual([
      { event: 'media', media: { payload: Buffer.from([1, 2, 3]).toString('base64') } },
      { event: 'mark', mark: { name: 'seg-1' } },
      { event: 'clear' },
    ]);
  });

  it('a mark echo reaches the playout in two calls (socket handler → receive → onMark); DTMF is reported', () => {
    const t = setup();
    t.transport.open(t.sink, t.events);
    t.transport.receive(start);
    t.transport.receive(JSON.stringify({ event: 'mark', mark: { name: 'seg-1' } }));
    t.transport.receive(JSON.stringify({ event: 'dtmf', dtmf: { digit: '7' } }));
    expect(t.seen.played).toEqual(['seg-1']);
    // Above onMark: receive (hop 2), then this test standing in for the socket's handler (hop 1).
    expect(t.seen.playedStacks[0]![0]).toMatch(/receive\].*stream-transport\.ts|StreamTransport\.receive/);
    expect(t.seen.playedStacks[0]![1]).toMatch(/call-transport\.test\.ts/);
    expect(t.seen.dtmf).toEqual(['7']);
  });

  it('close ends it once: the socket closes with the code, the sink closes, `ended` is reported once, late frames are ignored', () => {
    const t = setup();
    t.transport.open(t.sink, t.events);
    t.transport.receive(start);
    t.transport.close('call ended', 1001);
    t.transport.close('again');
    t.transport.socketClosed();
    t.transport.receive(JSON.stringify({ event: 'mark', mark: { name: 'late' } }));
    t.transport.receive(media(3));
    expect(t.closes).toEqual([{ code: 1001, reason: 'call ended' }]);
    expect(t.seen).toMatchObject({ ended: ['call ended'], sinkClosed: 1, played: [], pcm: [] });
  });

  it('closed before it was opened: the socket closes, nothing is reported later', () => {
    const t = setup();
    t.transport.close('call has ended', 1008);
    t.transport.open(t.sink, t.events);
    t.transport.receive(start);
    expect(t.closes).toEqual([{ code: 1008, reason: 'call has ended' }]);
    expect(t.seen).toMatchObject({ started: 0, ended: [] });
  });
});

class FakePeer implements Peer {
  readonly answerSdp = 'v=0';
  h: PeerHandlers | undefined;
  readonly rtp: RtpOut[] = [];
  readonly channel: string[] = [];
  channelOpen = false;
  closed = 0;
  start(h: PeerHandlers): void {
    this.h = h;
  }
  sendAudio(pkt: RtpOut): void {
    this.rtp.push(pkt);
  }
  sendChannel(text: string): boolean {
    if (this.channelOpen) this.channel.push(text);
    return this.channelOpen;
  }
  close(): void {
    this.closed += 1;
  }
}

describe('WebrtcTransport (browser connection)', () => {
  function setup() {
    const r = recorder();
    const time = new ManualTime(1000);
    const peer = new FakePeer();
    const transport = new WebrtcTransport({ id: 'webrtc-1', tenantId: 't', peer, maxDurationMs: 3_600_000, playoutNow: () => time.now(), logger, timers: time });
    return { ...r, time, peer, transport };
  }

  it('delivers nothing before open; once connected, caller Opus RTP is decoded into the sink at 48 kHz', () => {
    const t = setup();
    expect(t.peer.h).toBeUndefined();
    t.transport.open(t.sink, t.events);
    t.peer.h!.state('connected');
    const enc = createEncoder('OPUS', { sampleRate: 48000 });
    // The reorder window holds the newest packets back (3): of 6 sent in order, the first ones are through.
    for (let i = 0; i < 6; i += 1) t.peer.h!.audio({ seq: 100 + i, timestamp: i * 960, payload: Uint8Array.from(enc.encode(new Int16Array(960))) });
    enc.close();
    expect(t.seen.started).toBe(1);
    expect(t.seen.links).toEqual(['up']);
    expect(t.seen.pcm.length).toBeGreaterThan(0);
    expect(t.seen.pcm.every((p) => p.samples === 960 && p.rate === 48000)).toBe(true);
  });

  it('frames audio out as RTP: consecutive sequence numbers, 960-tick timestamps, marker on the first packet', () => {
    const t = setup();
    t.transport.open(t.sink, t.events);
    const payload = new Uint8Array([0xfc, 1, 2]);
    t.transport.audioOut.media(payload, 0);
    t.transport.audioOut.media(payload, 0);
    const [a, b] = t.peer.rtp;
    expect(a!.marker).toBe(true);
    expect(b!.marker).toBe(false);
    expect(b!.seq).toBe((a!.seq + 1) & 0xffff);
    expect(b!.timestamp).toBe((a!.timestamp + 960) >>> 0);
    expect([...a!.payload]).toEqual([...payload]);
  });

  it('a mark is confirmed when its audio has played, one call from the output timer to the playout; DTMF from the page is reported', () => {
    const t = setup();
    t.transport.open(t.sink, t.events);
    t.peer.h!.state('connected');
    t.transport.audioOut.media(new Uint8Array([0xfc]), 0);
    t.transport.audioOut.mark('seg-1');
    t.time.advance(19);
    expect(t.seen.played).toEqual([]);
    t.time.advance(1);
    expect(t.seen.played).toEqual(['seg-1']);
    // Above onMark: the output's own mark timer callback (hop 1), fired by the clock.
    expect(t.seen.playedStacks[0]![0]).toMatch(/rtp-audio-output\.ts/);
    expect(t.seen.playedStacks[0]![1]).toMatch(/manual-timers\.ts/);
    t.peer.h!.channelMessage('{"type":"dtmf","digit":"#"}');
    expect(t.seen.dtmf).toEqual(['#']);
  });

  it('close ends it once: `ended` once, the sink and the peer closed once, pending marks never confirmed', () => {
    const t = setup();
    t.transport.open(t.sink, t.events);
    t.peer.h!.state('connected');
    t.transport.audioOut.media(new Uint8Array([0xfc]), 0);
    t.transport.audioOut.mark('seg-1');
    t.transport.close('caller_hangup');
    t.transport.close('server_shutdown');
    t.peer.h!.state('closed');
    t.time.advance(1000);
    expect(t.seen.ended).toEqual(['caller_hangup']);
    expect(t.seen.sinkClosed).toBe(1);
    expect(t.seen.played).toEqual([]);
    expect(t.peer.closed).toBe(1);
    expect(t.transport.phase).toBe('ended');
    expect(t.time.pendingTimers).toBe(0);
  });

  it('an interrupted connection is reported and ends after the grace when it does not come back', () => {
    const t = setup();
    t.transport.open(t.sink, t.events);
    t.peer.h!.state('connected');
    t.peer.h!.state('disconnected');
    t.peer.h!.state('connected');
    expect(t.seen.links).toEqual(['up', 'interrupted', 'up']);
    t.peer.h!.state('disconnected');
    t.time.advance(5000);
    expect(t.seen.ended).toEqual(['connection_lost']);
  });
});
