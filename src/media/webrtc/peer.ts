/**
 * What a browser call needs from the WebRTC stack, and nothing more (the host's I/O handed in
 * through an adapter, as @discordjs/voice does): the answer, one audio track each way as RTP, one
 * data channel, and the connection state. werift-peer.ts adapts werift; unit tests use a fake.
 */

/** An SDP offer from a browser is 2–10 kB; anything far larger is not one. */
export const MAX_OFFER_SDP_BYTES = 32 * 1024;

/** An inbound RTP packet of the caller's audio track (Opus, RFC 7587). */
export interface RtpIn {
  /** 16-bit RTP sequence number. */
  seq: number;
  /** 32-bit RTP timestamp (48 kHz clock for Opus). */
  timestamp: number;
  payload: Uint8Array;
}

/** An outbound RTP packet of the agent's audio track; the stack fills in SSRC and payload type. */
export interface RtpOut {
  seq: number;
  timestamp: number;
  /** First packet of a talkspurt (RFC 3551 §4.1): the receiver may re-sync its jitter buffer. */
  marker: boolean;
  /** Owned by the packet from now on (the stack keeps it for retransmission). */
  payload: Buffer;
}

export type PeerState = 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';

export interface PeerHandlers {
  audio(pkt: RtpIn): void;
  state(state: PeerState): void;
  channelOpen(): void;
  channelMessage(data: string | Buffer): void;
}

export interface Peer {
  /** The SDP answer, with every local candidate (no trickle ICE: signalling is one HTTP round trip). */
  readonly answerSdp: string;
  /** Starts delivering events; handlers are called until close(). */
  start(h: PeerHandlers): void;
  sendAudio(pkt: RtpOut): void;
  /** False when the data channel is not open (the message is not sent). */
  sendChannel(text: string): boolean;
  close(): void;
}

/** Answers a browser's SDP offer. Throws AppError `invalid_offer` (400) for an offer it cannot answer. */
export type PeerFactory = (offerSdp: string) => Promise<Peer>;
