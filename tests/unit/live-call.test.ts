import { createEncoder } from '../../src/media/audio/codecs';
import { createLogger } from '../../src/lib/logger';
import { createMetrics } from '../../src/lib/metrics';
import type { CallConversation, LiveCallDeps, LiveCallState } from '../../src/media/live-call';
import { LiveCall } from '../../src/media/live-call';
import type { CallTransport, TransportEvents } from '../../src/media/ports';
import { ManualTime } from '../../src/lib/manual-timers';
import { MediaSession } from '../../src/media/session/media-session';
import { StreamTransport, type SessionFor } from '../../src/media/session/stream-transport';

const logger = createLogger({ level: 'silent' });

/** A live call over real Telnyx stream transports and MediaSessions; the conversation, pipeline and playout record what reaches them. */
function setup(orphanGraceMs = 5000) {
  const seen = { marks: [] as string[], pcm: 0, started: 0, closed: 0, dtmf: [] as string[], pipelinesClosed: 0 };
  const closes: { socket: number; code: number; reason: string }[] = [];
  const nothing = () => undefined;
  const conversation: CallConversation = {
    speechStarted: nothing, partial: nothing, final: nothing, sttError: nothing,
    dtmf: (d) => void seen.dtmf.push(d),
    start: () => void (seen.started += 1),
    close: () => void (seen.closed += 1),
    onWebhook: nothing, onTtsReady: nothing, onTtsFailed: nothing, onCommandFailed: nothing, segmentStarted: nothing, segmentDone: nothing, idle: nothing,
  };
  const time = new ManualTime();
  const sessionFor: SessionFor = (socket, sink, events, restartsSoFar) =>
    new MediaSession('call-1', socket, {
      health: { enabled: false, restartEnabled: false, startGraceMs: 1000, postPlaybackGraceMs: 1000, minAudioMsSincePlaybackEnd: 2000 },
      decodeFailuresBeforeFallback: 3, amrwbMinDecodedBytes: 320, l16ByteOrder: 'be', maxRestarts: 3,
      streamControl: { restart: async () => undefined },
      sink, events, metrics: createMetrics({ defaultMetrics: false }), logger, now: () => 0,
    }, restartsSoFar);
  const deps: LiveCallDeps = {
    audioOutput: () => ({
      voice: { play: nothing, stop: () => new Map(), busy: false, onWebhook: nothing, onMark: nothing, close: nothing },
      playout: { onMark: (name) => void seen.marks.push(name) },
    }),
    conversation: () => conversation,
    pipeline: () => ({ inSpeech: false, pushPcm: () => void (seen.pcm += 1), close: () => void (seen.pipelinesClosed += 1) }),
    orphanGraceMs,
    timers: time,
  };
  const socket = (n: number) =>
    new StreamTransport({ send: nothing, close: (code: number, reason: string) => void closes.push({ socket: n, code, reason }) }, sessionFor);
  const live = new LiveCall('call-1', deps, socket(1));
  const states: string[] = [];
  live.on('stateChange', (s: LiveCallState) => states.push(s.kind));
  /** The transport the media socket's messages go to (the registry returns it as the socket's handle). */
  const current = () => live.stream!.transport;
  return { live, seen, closes, states, socket, time, current };
}

const start = JSON.stringify({ event: 'start', start: { media_format: { encoding: 'PCMU', sample_rate: 8000 } } });
const media = (chunk: number) =>
  JSON.stringify({ event: 'media', media: { track: 'inbound', chunk: String(chunk), payload: Buffer.from(createEncoder('PCMU').encode(new Int16Array(160))).toString('base64') } });
const mark = (name: string) => JSON.stringify({ event: 'mark', mark: { name } });

describe('LiveCall', () => {
  it('routes a mark to the playout, audio to the pipeline, DTMF to the conversation; start greets', () => {
    const t = setup();
    expect(t.live.state.kind).toBe('awaiting_stream');
    const s = t.current();
    s.receive(start);
    s.receive(media(1));
    s.receive(mark('seg-1'));
    s.receive(JSON.stringify({ event: 'dtmf', dtmf: { digit: '5' } }));
    expect(t.states).toEqual(['streaming']);
    expect(t.seen).toMatchObject({ marks: ['seg-1'], pcm: 1, started: 1, dtmf: ['5'] });
  });

  it('a new socket is a state change of the same call: the old stream is closed and its late frames ignored', () => {
    const t = setup();
    const first = t.current();
    first.receive(start);
    t.live.attach(t.socket(2));
    const second = t.current();
    expect(t.states).toEqual(['streaming', 'awaiting_stream']);
    expect(t.closes).toEqual([{ socket: 1, code: 1000, reason: 'replaced by a newer stream' }]);
    expect(t.seen.pipelinesClosed).toBe(1);
    first.receive(mark('late'));
    second.receive(mark('seg-2'));
    expect(t.seen.marks).toEqual(['seg-2']);
    expect(t.seen.closed).toBe(0); // the conversation goes on
  });

  it('a lost socket orphans the call; without a new stream within the grace it ends and closes the conversation', () => {
    const t = setup(20);
    t.current().receive(start);
    t.current().socketClosed();
    expect(t.live.state.kind).toBe('orphaned');
    t.time.advance(19);
    expect(t.live.state.kind).toBe('orphaned');
    t.time.advance(1);
    expect(t.states).toEqual(['streaming', 'orphaned', 'ended']);
    expect(t.seen.closed).toBe(1);
  });

  it('a new stream within the grace takes the orphaned call back', () => {
    const t = setup();
    t.current().socketClosed();
    t.live.attach(t.socket(2));
    t.current().receive(start);
    expect(t.states).toEqual(['orphaned', 'awaiting_stream', 'streaming']);
    expect(t.time.pendingTimers).toBe(0); // the grace timer went with the orphaned state
    expect(t.seen.started).toBe(1);
    expect(t.seen.closed).toBe(0);
  });
});

describe('LiveCall without an orphan grace (a browser call)', () => {
  it('ends with its transport: the conversation closed once, one close (a no-op) for the ended transport, `ended` once', () => {
    const seen = { closed: 0, transportCloses: [] as string[], ended: 0 };
    const nothing = () => undefined;
    let events: TransportEvents | undefined;
    const transport: CallTransport = {
      audioOut: { media: nothing, mark: nothing, clear: nothing },
      open: (_sink, e) => void (events = e),
      close: (reason) => void seen.transportCloses.push(reason),
    };
    const live = new LiveCall('webrtc-1', {
      audioOutput: () => ({ voice: { play: nothing, stop: () => new Map(), busy: false, onWebhook: nothing, onMark: nothing, close: nothing } }),
      conversation: () => ({
        speechStarted: nothing, partial: nothing, final: nothing, sttError: nothing, dtmf: nothing, start: nothing,
        close: () => void (seen.closed += 1),
        onWebhook: nothing, onTtsReady: nothing, onTtsFailed: nothing, onCommandFailed: nothing, segmentStarted: nothing, segmentDone: nothing, idle: nothing,
      }),
      pipeline: () => ({ inSpeech: false, pushPcm: nothing, close: nothing }),
    }, transport);
    live.on('stateChange', (s: LiveCallState) => void (s.kind === 'ended' && (seen.ended += 1)));
    events!.link?.('up');
    events!.ended('connection_lost');
    events!.ended('connection_lost');
    expect(live.state.kind).toBe('ended');
    expect(seen.closed).toBe(1);
    expect(seen.ended).toBe(1);
    // The setter closes the transport it leaves (a no-op for one that already ended), with the transport's own reason.
    expect(seen.transportCloses).toEqual(['connection_lost']);
  });
});
