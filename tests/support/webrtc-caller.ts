/**
 * A browser stand-in for WebRTC HD tests: a real werift peer in the test process that offers
 * Opus audio + the "events" data channel to POST /v1/webrtc/offer, sends caller speech as 20 ms
 * Opus RTP packets in real time, and records what comes back (agent RTP, decoded at 48 kHz, and
 * the data-channel messages).
 */
import axios from 'axios';
import { RTCPeerConnection, RTCRtpCodecParameters, RtpHeader, RtpPacket, type RTCDataChannel, type RTCRtpTransceiver } from 'werift';
import { OpusDecoder, OpusEncoder } from '../../src/media/audio/codecs/opus';
import type { ServerMessage } from '../../src/media/webrtc/hd-call-messages';

export const http = axios.create({ validateStatus: () => true, timeout: 10_000 });

const opus = () => new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, parameters: 'minptime=10;useinbandfec=1' });

export interface AgentPacket {
  seq: number;
  timestamp: number;
  marker: boolean;
  samples: number;
  at: number;
}

export async function makeOffer(): Promise<{ pc: RTCPeerConnection; transceiver: RTCRtpTransceiver; dc: RTCDataChannel; sdp: string }> {
  // max-bundle: werift keeps the sockets of an unbundled second transport open for minutes after close.
  const pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: 'max-bundle', codecs: { audio: [opus()], video: [] } });
  const transceiver = pc.addTransceiver('audio', { direction: 'sendrecv' });
  const dc = pc.createDataChannel('events');
  await pc.setLocalDescription(await pc.createOffer());
  if (pc.iceGatheringState !== 'complete') await new Promise<void>((r) => pc.iceGatheringStateChange.subscribe((s) => s === 'complete' && r()));
  return { pc, transceiver, dc, sdp: pc.localDescription!.sdp };
}

export class WebrtcCaller {
  readonly messages: ServerMessage[] = [];
  readonly packets: AgentPacket[] = [];
  private readonly decoder = new OpusDecoder(48000);
  private readonly chunks: Int16Array[] = [];
  private seq = 1000;
  private ts = 123456;
  private sending: NodeJS.Timeout | undefined;
  private closed = false;
  connection = 'new';

  private constructor(
    readonly pc: RTCPeerConnection,
    private readonly transceiver: RTCRtpTransceiver,
    readonly dc: RTCDataChannel,
  ) {
    // Subscribed before the answer is applied: werift announces the remote track right then.
    transceiver.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((rtp) => {
        const pcm = this.decoder.decode(rtp.payload);
        const samples = pcm?.length ?? 0;
        if (pcm) this.chunks.push(pcm.slice());
        this.packets.push({ seq: rtp.header.sequenceNumber, timestamp: rtp.header.timestamp, marker: rtp.header.marker, samples, at: Date.now() });
      });
    });
    dc.onMessage.subscribe((m) => this.messages.push(JSON.parse(String(m)) as ServerMessage));
    pc.connectionStateChange.subscribe((s) => (this.connection = s));
  }

  sessionId = '';

  /** Offers to the runtime at `baseUrl` and applies the answer; throws with the HTTP error otherwise. */
  static async call(baseUrl: string, tenantId: string, headers: Record<string, string> = {}): Promise<WebrtcCaller> {
    const { pc, transceiver, dc, sdp } = await makeOffer();
    const caller = new WebrtcCaller(pc, transceiver, dc);
    const res = await http.post(`${baseUrl}/v1/webrtc/offer`, { tenant_id: tenantId, offer: { type: 'offer', sdp } }, { headers });
    if (res.status !== 200) {
      await caller.close();
      throw Object.assign(new Error(`offer refused: ${res.status} ${JSON.stringify(res.data)}`), { response: res });
    }
    const body = res.data as { session_id: string; answer: { type: 'answer'; sdp: string } };
    caller.sessionId = body.session_id;
    await pc.setRemoteDescription(body.answer);
    return caller;
  }

  /** Agent audio received so far, decoded (48 kHz). */
  agentPcm(): Int16Array {
    const out = new Int16Array(this.chunks.reduce((n, c) => n + c.length, 0));
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }

  get agentMs(): number {
    return this.chunks.reduce((n, c) => n + c.length, 0) / 48;
  }

  /** Sends 48 kHz PCM as 20 ms Opus packets, one every 20 ms; resolves when all are sent. */
  speak(pcm48k: Int16Array): Promise<void> {
    const enc = new OpusEncoder(48000);
    const frames: Buffer[] = [];
    for (let i = 0; i < pcm48k.length; i += 960) {
      const f = new Int16Array(960);
      f.set(pcm48k.subarray(i, Math.min(i + 960, pcm48k.length)));
      frames.push(Buffer.from(enc.encode(f)));
    }
    enc.close();
    return new Promise((resolve) => {
      let i = 0;
      this.sending = setInterval(() => {
        if (i >= frames.length) {
          clearInterval(this.sending);
          resolve();
          return;
        }
        this.sendPacket(frames[i]!);
        i += 1;
      }, 20);
    });
  }

  private sendPacket(payload: Buffer): void {
    const header = new RtpHeader({ sequenceNumber: this.seq, timestamp: this.ts, marker: false });
    this.seq = (this.seq + 1) & 0xffff;
    this.ts = (this.ts + 960) >>> 0;
    void this.transceiver.sender.sendRtp(new RtpPacket(header, payload));
  }

  /** Idempotent (a test's finally and its afterEach may both close the same caller). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.sending) clearInterval(this.sending);
    this.decoder.close();
    await this.pc.close();
  }
}

/** Power of `freq` in `pcm` relative to the signal's total power (Goertzel), 0..1. */
export function toneShare(pcm: Int16Array, rate: number, freq: number): number {
  const k = (2 * Math.PI * freq) / rate;
  const coeff = 2 * Math.cos(k);
  let s1 = 0;
  let s2 = 0;
  let total = 0;
  for (let i = 0; i < pcm.length; i += 1) {
    const x = pcm[i]!;
    total += x * x;
    const s = x + coeff * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return total > 0 ? (2 * power) / (pcm.length * total) : 0;
}
