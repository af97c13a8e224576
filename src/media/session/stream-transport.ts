/**
 * A Telnyx media stream as a CallTransport: one media WebSocket and the MediaSession decoding it.
 * Audio out is the Telnyx media-stream JSON (media / mark / clear frames) on the socket; audio in
 * is the session's decoded PCM; a `mark` echo is the playout confirmation, routed here without
 * reaching the session. One transport per socket: a restarted stream is a new transport of the
 * same live call (src/media/live-call.ts).
 */
import { parseInbound } from '../../lib/telnyx/media-protocol';
import { newCompactMedia, parseCompactMedia } from '../../lib/telnyx/media-frame-bytes';
import { telnyxMediaOutput } from '../../lib/telnyx/media-output';
import type { PlayoutOutput } from '../playout/types';
import type { CallTransport, InboundAudioSink, TransportEvents } from '../ports';
import type { MediaSession, MediaSessionEvents, MediaSocket, StreamPhase } from './media-session';

/** Builds the stream's session around the sink and events the transport hands it. */
export type SessionFor = (socket: MediaSocket, sink: InboundAudioSink, events: MediaSessionEvents, restartsSoFar: number) => MediaSession;

export class StreamTransport implements CallTransport {
  readonly audioOut: PlayoutOutput;
  private session: MediaSession | undefined;
  private events: TransportEvents | undefined;
  private ended = false;
  private closeReason: string | undefined;
  /** Filled by the byte parser for each compact media frame (one object per stream, reused). */
  private readonly compact = newCompactMedia();

  constructor(
    readonly socket: MediaSocket,
    private readonly sessionFor: SessionFor,
    /** Restarts the call's earlier streams asked for (the session's budget spans the call). */
    private readonly restartsSoFar = 0,
  ) {
    this.audioOut = telnyxMediaOutput((text) => socket.send(text));
  }

  /** Restarts asked for so far, this stream's included (a newer stream continues the count). */
  get restartCount(): number {
    return this.session?.restartCount ?? this.restartsSoFar;
  }

  open(sink: InboundAudioSink, events: TransportEvents): void {
    if (this.session || this.ended) return;
    this.events = events;
    this.session = this.sessionFor(
      this.socket,
      sink,
      { dtmf: events.dtmf, streamStarted: events.started, phaseChanged: (phase) => this.onPhase(phase) },
      this.restartsSoFar,
    );
  }

  /**
   * One text message from the socket. Hops of a `mark`: (1) the socket's handler calls receive(),
   * (2) receive() calls `played` (the playout's onMark). Everything else goes to the session.
   * Never throws: the session counts and drops what it cannot use. Bytes (the socket's message as
   * received) are read as a compact media frame without a string when they are one, else decoded
   * as UTF-8 and parsed in full.
   */
  receive(data: string | Buffer): void {
    if (this.ended || !this.session) return; // a closed stream's late frames
    if (typeof data !== 'string') {
      if (parseCompactMedia(data, this.compact)) return this.session.handleCompactMedia(data, this.compact);
      data = data.toString('utf8');
    }
    const frame = parseInbound(data);
    if (frame.kind === 'mark') return this.events?.played(frame.name);
    this.session.handleFrame(frame);
  }

  /** The socket closed (the peer went away). */
  socketClosed(): void {
    this.close('socket closed');
  }

  /** Health check of the stream (the registry's shared ticker). */
  tick(): void {
    if (!this.ended) this.session?.tick();
  }

  /** Our audio finished: the ingest health monitor expects caller audio to keep flowing. */
  playbackEnded(): void {
    this.session?.onPlaybackEnded();
  }

  close(reason: string, code = 1000): void {
    if (this.ended) return;
    this.closeReason = reason;
    if (this.session) this.session.close(code, reason); // reports `closed`, which ends this transport
    else this.finish(reason, () => this.socket.close(code, reason));
  }

  private onPhase(phase: StreamPhase): void {
    if (phase === 'streaming') this.events?.link?.('up');
    else if (phase === 'restarting') this.events?.link?.('interrupted');
    else if (phase === 'closed') this.finish(this.closeReason ?? 'stream closed');
  }

  private finish(reason: string, teardown?: () => void): void {
    if (this.ended) return;
    this.ended = true;
    teardown?.();
    this.events?.ended(reason);
  }
}
