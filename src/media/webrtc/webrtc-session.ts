/**
 * One browser call's lifecycle: an explicit state changed by one setter that tears down what the
 * old state owned (its timer), as @discordjs/voice does for its connections.
 *
 *   connecting ──connected──▶ active ◀──connected── disconnected
 *       │                      │  └──disconnected──────▲  │
 *       └── timeout / failed / closed / hangup / max duration / media stall ──▶ ended
 *
 * `ended` is final: the media and the peer are closed and `onEnded` runs once (the owner releases
 * the capacity slot there).
 */
import type { Logger } from '../../lib/logger';
import { buildServerMessage, parseClientMessage, type ServerMessage } from './hd-call-messages';
import type { Peer, PeerState, RtpIn } from './peer';
import { realTimers, type CancelTimer, type Timers } from '../../lib/timers';

/** ICE + DTLS on any usable path take well under a second; without TURN, 15 s means it never will. */
export const CONNECT_TIMEOUT_MS = 15_000;
/** ICE `disconnected` often recovers by itself within seconds (Wi-Fi roaming): wait before ending. */
export const DISCONNECTED_GRACE_MS = 5_000;
/**
 * A browser sends a packet every 20 ms while the call is up, muted or not; 10 s of nothing means
 * the page is gone (ICE consent expiry alone takes ~30 s to notice).
 */
export const MEDIA_STALL_MS = 10_000;
const STALL_CHECK_EVERY_MS = 1_000;
/** Messages queued until the data channel opens (greeting lines, status): a few at most. */
const MAX_OUTBOX = 64;
/** Lets the final `ended` message cross the data channel before the connection closes. */
const END_LINGER_MS = 250;

type State =
  | { phase: 'connecting'; timer: CancelTimer }
  | { phase: 'active' }
  | { phase: 'disconnected'; timer: CancelTimer }
  | { phase: 'ended'; reason: string };

export type SessionPhase = State['phase'];

/** What the session drives of its media: the transport's RTP in and out (webrtc-transport.ts). */
export interface SessionMediaPort {
  start(): void;
  audio(pkt: RtpIn): void;
  close(): void;
  readonly stats: object;
}

export interface WebrtcSessionDeps {
  id: string;
  tenantId: string;
  peer: Peer;
  /** Audio in and out of the connection (see webrtc-transport.ts). */
  media: SessionMediaPort;
  maxDurationMs: number;
  /** A keypad digit from the page. */
  dtmf?(digit: string): void;
  /** After every change of phase (not for `ended`: onEnded reports that, once). */
  phaseChanged?(phase: SessionPhase): void;
  onEnded(reason: string): void;
  logger: Logger;
  /** Timeouts and the media-stall check (its `now` is monotonic). Default: real timers. */
  timers?: Timers;
}

export class WebrtcSession {
  private state: State;
  private started = false;
  private channelOpen = false;
  private readonly outbox: string[] = [];
  private lastAudioAt: number;
  private readonly timers: Timers;
  private readonly cancelMaxDuration: CancelTimer;
  private readonly cancelStallCheck: CancelTimer;

  constructor(private readonly d: WebrtcSessionDeps) {
    this.timers = d.timers ?? realTimers;
    this.lastAudioAt = this.timers.now();
    this.state = { phase: 'connecting', timer: this.timers.after(CONNECT_TIMEOUT_MS, () => this.end('connect_timeout')) };
    this.cancelMaxDuration = this.timers.after(d.maxDurationMs, () => this.end('max_duration'));
    this.cancelStallCheck = this.timers.every(STALL_CHECK_EVERY_MS, () => this.checkStall());
    d.peer.start({
      audio: (pkt) => {
        if (this.state.phase === 'ended') return;
        this.lastAudioAt = this.timers.now();
        d.media.audio(pkt);
      },
      state: (s) => this.onPeerState(s),
      channelOpen: () => this.onChannelOpen(),
      channelMessage: (data) => {
        if (this.state.phase === 'ended') return;
        const m = parseClientMessage(data);
        if (m?.type === 'hangup') this.end('caller_hangup');
        else if (m?.type === 'dtmf') d.dtmf?.(m.digit);
      },
    });
  }

  get phase(): SessionPhase {
    return this.state.phase;
  }

  /** Sends to the page now, or when its data channel opens (bounded: the oldest are dropped). */
  notify(m: ServerMessage): void {
    if (this.state.phase === 'ended') return;
    const text = buildServerMessage(m);
    if (this.channelOpen && this.d.peer.sendChannel(text)) return;
    if (this.outbox.length >= MAX_OUTBOX) this.outbox.shift();
    this.outbox.push(text);
  }

  /** Ends the call (idempotent): tells the page why, closes media and connection, releases. */
  end(reason: string): void {
    if (this.state.phase === 'ended') return;
    const { media, peer, logger } = this.d;
    logger.info({ callControlId: this.d.id, tenantId: this.d.tenantId, reason, from: this.state.phase, ...media.stats }, 'webrtc call ended');
    this.setState({ phase: 'ended', reason });
    this.cancelMaxDuration();
    this.cancelStallCheck();
    media.close();
    // Last word to the page; notify() sends nothing once ended (closing the media reports "listening").
    const told = this.channelOpen && peer.sendChannel(buildServerMessage({ type: 'ended', reason }));
    if (told) this.timers.after(END_LINGER_MS, () => peer.close());
    else peer.close();
    this.d.onEnded(reason);
  }

  private onPeerState(s: PeerState): void {
    const phase = this.state.phase;
    if (phase === 'ended') return;
    switch (s) {
      case 'connected':
        if (phase === 'active') return;
        this.setState({ phase: 'active' });
        if (!this.started) {
          this.started = true;
          this.lastAudioAt = this.timers.now();
          this.notify({ type: 'status', status: 'listening' });
          this.d.media.start();
        }
        return;
      case 'disconnected':
        if (phase === 'active') this.setState({ phase: 'disconnected', timer: this.timers.after(DISCONNECTED_GRACE_MS, () => this.end('connection_lost')) });
        return;
      case 'failed':
        return this.end('connection_failed');
      case 'closed':
        return this.end('connection_closed');
      default:
        return;
    }
  }

  private onChannelOpen(): void {
    this.channelOpen = true;
    for (const text of this.outbox.splice(0)) this.d.peer.sendChannel(text);
  }

  private checkStall(): void {
    if (this.state.phase === 'active' && this.timers.now() - this.lastAudioAt > MEDIA_STALL_MS) this.end('media_timeout');
  }

  /** The one place the state changes: whatever the old state owned (its timer) is released here. */
  private setState(next: State): void {
    const old = this.state;
    if ('timer' in old) old.timer();
    this.state = next;
    this.d.logger.debug({ callControlId: this.d.id, from: old.phase, to: next.phase }, 'webrtc session state');
    if (next.phase !== 'ended') this.d.phaseChanged?.(next.phase);
  }
}
