/**
 * The Peer port on werift (pure TypeScript WebRTC). One audio transceiver (Opus 48 kHz, sendrecv)
 * and the data channel the page opens. No STUN/TURN servers: the answer carries this host's
 * interface addresses only, and nothing is ever sent to a third party (werift's own default
 * config would ask a public STUN server for our address).
 */
import type { MediaStreamTrack, RTCPeerConnection, RTCRtpTransceiver } from 'werift';
import { AppError, errorMessage } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { realTimers, type Timers } from '../../lib/timers';
import type { Peer, PeerFactory, PeerHandlers, PeerState, RtpOut } from './peer';
import type { Werift } from './werift-loader';

/** Host candidates only (no STUN/TURN): gathering takes milliseconds; this bounds a stuck one. */
const GATHER_TIMEOUT_MS = 3000;

const invalidOffer = (why: string, cause?: unknown) => new AppError('invalid_offer', `cannot answer the offer: ${why}`, { status: 400, cause });

/** `timers` bounds ICE gathering (default: real timers). */
export function weriftPeerFactory(lib: Werift, logger: Logger, timers: Timers = realTimers): PeerFactory {
  return async (offerSdp) => {
    const pc = new lib.RTCPeerConnection({
      iceServers: [],
      codecs: {
        // RFC 7587: Opus is always signalled as opus/48000/2, whatever is actually sent.
        audio: [new lib.RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, parameters: 'minptime=10;useinbandfec=1' })],
        video: [],
      },
    });
    try {
      try {
        await pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
      } catch (err) {
        throw invalidOffer(errorMessage(err), err);
      }
      const audio = pc.getTransceivers().filter((t) => t.kind === 'audio');
      if (audio.length !== 1) throw invalidOffer(`expected one audio track, found ${audio.length}`);
      if (!pc.remoteDescription?.sdp.includes('webrtc-datachannel')) throw invalidOffer('no data channel (the page opens one for the transcript)');
      const transceiver = audio[0]!;
      transceiver.setDirection('sendrecv');
      await pc.setLocalDescription(await pc.createAnswer());
      await gathered(pc, timers);
      const sdp = pc.localDescription?.sdp;
      if (!sdp) throw invalidOffer('no local description');
      return new WeriftPeer(lib, pc, transceiver, sdp, logger);
    } catch (err) {
      void pc.close().catch(() => undefined);
      if (err instanceof AppError) throw err;
      throw invalidOffer(errorMessage(err), err);
    }
  };
}

function gathered(pc: RTCPeerConnection, timers: Timers): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const cancelTimer = timers.after(GATHER_TIMEOUT_MS, done);
    const sub = pc.iceGatheringStateChange.subscribe((s) => s === 'complete' && done());
    function done() {
      cancelTimer();
      sub.unSubscribe();
      resolve();
    }
  });
}

type Channel = { readyState: string; send(data: string): void; close(): void };

class WeriftPeer implements Peer {
  private channel: Channel | undefined;
  private closed = false;
  private readonly subs: { unSubscribe(): void }[] = [];

  constructor(
    private readonly lib: Werift,
    private readonly pc: RTCPeerConnection,
    private readonly transceiver: RTCRtpTransceiver,
    readonly answerSdp: string,
    private readonly logger: Logger,
  ) {}

  start(h: PeerHandlers): void {
    // Our handlers run inside werift's event loop: an exception must not break its state machine.
    const guard = <A extends unknown[]>(what: string, fn: (...a: A) => void) => (...a: A) => {
      try {
        fn(...a);
      } catch (err) {
        this.logger.error({ err: errorMessage(err), what }, 'webrtc handler failed');
      }
    };
    const onTrack = guard('track', (track: MediaStreamTrack) => {
      this.subs.push(track.onReceiveRtp.subscribe(guard('rtp', (rtp) => h.audio({ seq: rtp.header.sequenceNumber, timestamp: rtp.header.timestamp, payload: rtp.payload }))));
    });
    this.subs.push(this.transceiver.onTrack.subscribe(onTrack));
    if (this.transceiver.receiver.track) onTrack(this.transceiver.receiver.track);
    this.subs.push(this.pc.connectionStateChange.subscribe(guard('state', (s) => (s === 'new' ? undefined : h.state(s as PeerState)))));
    this.subs.push(
      this.pc.onDataChannel.subscribe(
        guard('channel', (ch) => {
          if (this.channel) return ch.close(); // one channel per call
          this.channel = ch;
          this.subs.push(ch.onMessage.subscribe(guard('message', (m) => h.channelMessage(m))));
          const opened = guard('channel open', (s: string) => s === 'open' && h.channelOpen());
          this.subs.push(ch.stateChanged.subscribe(opened));
          if (ch.readyState === 'open') opened('open');
        }),
      ),
    );
  }

  sendAudio(pkt: RtpOut): void {
    if (this.closed) return;
    // The sender sets SSRC and the negotiated payload type.
    const header = new this.lib.RtpHeader({ sequenceNumber: pkt.seq, timestamp: pkt.timestamp, marker: pkt.marker });
    this.transceiver.sender.sendRtp(new this.lib.RtpPacket(header, pkt.payload)).catch((err: unknown) => {
      this.logger.debug({ err: errorMessage(err) }, 'webrtc: RTP packet not sent');
    });
  }

  sendChannel(text: string): boolean {
    const ch = this.channel;
    if (this.closed || ch?.readyState !== 'open') return false;
    try {
      ch.send(text);
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.subs.splice(0)) s.unSubscribe();
    this.pc.close().catch((err: unknown) => this.logger.debug({ err: errorMessage(err) }, 'webrtc: close failed'));
  }
}
