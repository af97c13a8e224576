/**
 * A browser's WebRTC connection as a CallTransport: the peer (one Opus track each way, one data
 * channel), its connection state machine (WebrtcSession: connecting / active / disconnected /
 * ended, with its timeouts), the caller's RTP decoded into the sink (RtpAudioInput) and the agent's
 * audio out as RTP (RtpAudioOutput, whose play-end timers are the playout confirmations). The data
 * channel to the page (transcripts, status) is the one thing beyond the port: notify().
 */
import type { Logger } from '../../lib/logger';
import type { Timers } from '../../lib/timers';
import { createDecoder, type Decoder } from '../audio/codecs';
import type { CallTransport, InboundAudioSink, TransportEvents } from '../ports';
import type { ServerMessage } from './hd-call-messages';
import type { Peer } from './peer';
import { RtpAudioInput } from './rtp-audio-input';
import { OPUS_RTP_RATE, RtpAudioOutput } from './rtp-audio-output';
import { WebrtcSession, type SessionPhase } from './webrtc-session';

export interface WebrtcTransportDeps {
  id: string;
  tenantId: string;
  peer: Peer;
  maxDurationMs: number;
  /** Monotonic ms of the call's playout clock: the RTP output models play-end on the same clock. */
  playoutNow(): number;
  logger: Logger;
  /** Connection timeouts, the media-stall check and mark timers. Default: real timers. */
  timers?: Timers;
  /** Default: an Opus decoder at the 48 kHz RTP rate. */
  decoder?: () => Decoder;
}

export class WebrtcTransport implements CallTransport {
  readonly audioOut: RtpAudioOutput;
  private input: RtpAudioInput | undefined;
  private session: WebrtcSession | undefined;
  private closedUnopened = false;
  /** Why the call ended (the session's reason, e.g. caller_hangup, max_duration), once it has. */
  private ended: string | undefined;

  constructor(private readonly d: WebrtcTransportDeps) {
    this.audioOut = new RtpAudioOutput({ send: (pkt) => d.peer.sendAudio(pkt), now: d.playoutNow, timers: d.timers });
  }

  get endReason(): string | undefined {
    return this.ended;
  }

  /** The connection's phase (`connecting` until opened). */
  get phase(): SessionPhase {
    return this.session?.phase ?? 'connecting';
  }

  /**
   * Starts the connection: caller audio into `sink`, confirmations straight from the RTP output's
   * mark timers to `events.played` (one call from the timer to the playout).
   */
  open(sink: InboundAudioSink, events: TransportEvents): void {
    if (this.session || this.closedUnopened) return;
    const { d } = this;
    this.audioOut.played = events.played;
    const input = new RtpAudioInput(d.decoder?.() ?? createDecoder('OPUS', { sampleRate: OPUS_RTP_RATE }), sink);
    this.input = input;
    const output = this.audioOut;
    try {
      this.session = this.connect(input, output, sink, events);
    } catch (e) {
      input.close();
      throw e;
    }
  }

  private connect(input: RtpAudioInput, output: RtpAudioOutput, sink: InboundAudioSink, events: TransportEvents): WebrtcSession {
    const { d } = this;
    return new WebrtcSession({
      id: d.id,
      tenantId: d.tenantId,
      peer: d.peer,
      maxDurationMs: d.maxDurationMs,
      logger: d.logger,
      timers: d.timers,
      media: {
        start: () => events.started(),
        audio: (pkt) => input.push(pkt),
        // Audio in and out stop with the connection; so does the sink it fed (as a Telnyx stream's does).
        close: () => {
          input.close();
          output.close();
          sink.close();
        },
        get stats() {
          return { input: input.stats, packetsSent: output.packetsSent };
        },
      },
      dtmf: (digit) => events.dtmf(digit),
      phaseChanged: (phase) => {
        if (phase === 'active') events.link?.('up');
        else if (phase === 'disconnected') events.link?.('interrupted');
      },
      onEnded: (reason) => {
        this.ended = reason;
        events.ended(reason);
      },
    });
  }

  /** To the page over the data channel (queued until it opens). */
  notify(m: ServerMessage): void {
    this.session?.notify(m);
  }

  close(reason: string): void {
    if (this.session) return this.session.end(reason);
    if (this.closedUnopened) return;
    this.closedUnopened = true;
    this.ended = reason;
    this.d.peer.close();
  }

  get stats() {
    return { input: this.input?.stats, packetsSent: this.audioOut.packetsSent };
  }
}
