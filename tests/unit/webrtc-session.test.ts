import type { Peer, PeerHandlers, RtpIn } from '../../src/media/webrtc/peer';
import { ManualTime } from '../../src/lib/manual-timers';
import { CONNECT_TIMEOUT_MS, DISCONNECTED_GRACE_MS, MEDIA_STALL_MS, WebrtcSession } from '../../src/media/webrtc/webrtc-session';
import { memoryLogger } from '../support/test-config';

class FakePeer implements Peer {
  readonly answerSdp = 'v=0';
  h!: PeerHandlers;
  channelOpen = false;
  sent: string[] = [];
  closed = 0;
  start(h: PeerHandlers): void {
    this.h = h;
  }
  sendAudio(): void {}
  sendChannel(text: string): boolean {
    if (!this.channelOpen) return false;
    this.sent.push(text);
    return true;
  }
  open(): void {
    this.channelOpen = true;
    this.h.channelOpen();
  }
  close(): void {
    this.closed += 1;
  }
}

function setup(opts: { maxDurationMs?: number } = {}) {
  const timers = new ManualTime();
  const peer = new FakePeer();
  const media = { started: 0, closed: 0, packets: [] as RtpIn[], start() { this.started += 1; }, audio(p: RtpIn) { this.packets.push(p); }, close() { this.closed += 1; }, stats: {} };
  const ended: string[] = [];
  const session = new WebrtcSession({
    id: 'webrtc-test',
    tenantId: 't',
    peer,
    media,
    maxDurationMs: opts.maxDurationMs ?? 3_600_000,
    onEnded: (r) => ended.push(r),
    logger: memoryLogger('silent').logger,
    timers,
  });
  const audio = () => peer.h.audio({ seq: 1, timestamp: 0, payload: new Uint8Array([1]) });
  return { timers, peer, media, ended, session, audio };
}

describe('WebrtcSession', () => {
  it('gives up when the connection never comes up, releasing exactly once', () => {
    const { timers, peer, media, ended, session } = setup();
    timers.advance(CONNECT_TIMEOUT_MS - 1);
    expect(session.phase).toBe('connecting');
    timers.advance(1);
    expect(session.phase).toBe('ended');
    expect(ended).toEqual(['connect_timeout']);
    expect(media.closed).toBe(1);
    expect(peer.closed).toBe(1);
    session.end('caller_hangup');
    peer.h.state('failed');
    expect(ended).toEqual(['connect_timeout']);
    expect(timers.pendingTimers).toBe(0);
  });

  it('greets once on connect, survives a short ICE disconnect, ends after a long one', () => {
    const { timers, media, ended, session, peer, audio } = setup();
    peer.h.state('connected');
    expect(session.phase).toBe('active');
    expect(media.started).toBe(1);
    peer.h.state('disconnected');
    expect(session.phase).toBe('disconnected');
    timers.advance(DISCONNECTED_GRACE_MS - 1);
    audio();
    peer.h.state('connected');
    expect(session.phase).toBe('active');
    expect(media.started).toBe(1);
    timers.advance(DISCONNECTED_GRACE_MS);
    expect(ended).toEqual([]);
    peer.h.state('disconnected');
    timers.advance(DISCONNECTED_GRACE_MS);
    expect(ended).toEqual(['connection_lost']);
  });

  it.each([
    ['failed', 'connection_failed'],
    ['closed', 'connection_closed'],
  ] as const)('ends at once when the connection is %s', (state, reason) => {
    const { ended, peer } = setup();
    peer.h.state('connected');
    peer.h.state(state);
    expect(ended).toEqual([reason]);
  });

  it('queues page messages until the data channel opens, then sends them in order', () => {
    const { session, peer } = setup();
    session.notify({ type: 'status', status: 'listening' });
    session.notify({ type: 'transcript', role: 'agent', text: 'Hi' });
    expect(peer.sent).toEqual([]);
    peer.open();
    session.notify({ type: 'status', status: 'agent_speaking' });
    expect(peer.sent.map((t) => JSON.parse(t))).toEqual([
      { type: 'status', status: 'listening' },
      { type: 'transcript', role: 'agent', text: 'Hi' },
      { type: 'status', status: 'agent_speaking' },
    ]);
  });

  it('keeps at most 64 queued messages, dropping the oldest', () => {
    const { session, peer } = setup();
    for (let i = 0; i < 100; i += 1) session.notify({ type: 'transcript', role: 'agent', text: String(i) });
    peer.open();
    expect(peer.sent).toHaveLength(64);
    expect(JSON.parse(peer.sent[0]!).text).toBe('36');
  });

  it('ends on a hangup message from the page, telling it why before the connection closes', () => {
    const { timers, session, peer, ended } = setup();
    peer.h.state('connected');
    peer.open();
    peer.h.channelMessage('{"type":"nonsense"}');
    peer.h.channelMessage('not json');
    expect(session.phase).toBe('active');
    peer.h.channelMessage(Buffer.from('{"type":"hangup"}'));
    expect(ended).toEqual(['caller_hangup']);
    expect(JSON.parse(peer.sent.at(-1)!)).toEqual({ type: 'ended', reason: 'caller_hangup' });
    session.notify({ type: 'status', status: 'listening' });
    expect(JSON.parse(peer.sent.at(-1)!).type).toBe('ended');
    expect(peer.closed).toBe(0);
    timers.advance(250);
    expect(peer.closed).toBe(1);
  });

  it('ends when the browser stops sending audio, not while it keeps sending', () => {
    const { timers, ended, peer, audio, media } = setup();
    peer.h.state('connected');
    for (let t = 0; t < 3 * MEDIA_STALL_MS; t += 1000) {
      audio();
      timers.advance(1000);
    }
    expect(ended).toEqual([]);
    expect(media.packets.length).toBeGreaterThan(0);
    timers.advance(MEDIA_STALL_MS + 1000);
    expect(ended).toEqual(['media_timeout']);
    audio();
    expect(media.packets.length).toBe(3 * MEDIA_STALL_MS / 1000);
  });

  it('ends at the maximum call duration', () => {
    const { timers, ended, peer, audio } = setup({ maxDurationMs: 5000 });
    peer.h.state('connected');
    for (let t = 0; t < 5000; t += 500) {
      audio();
      timers.advance(500);
    }
    expect(ended).toEqual(['max_duration']);
  });
});
