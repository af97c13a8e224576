import type { BusMessage } from '../lib/call-bus';
import type { CallRecord } from '../lib/calls/call-store';
import type { Logger } from '../lib/logger';
import type { Metrics } from '../lib/metrics';
import type { TenantConfig } from '../lib/tenants/tenant-config';
import { realTimers, type CancelTimer, type Timers } from '../lib/timers';
import { nativeRate, normalizeEncoding } from './audio/codecs';
import type { AgentVoice, VoiceEvents } from './conversation/agent-voice';
import type { SpeechControl } from './conversation/conversation';
import { StreamVoice } from './conversation/stream-voice';
import { UrlVoice, type CallCommands } from './conversation/url-voice';
import { LiveCall, type AudioOutput, type CallConversation, type LiveCallState, type LiveStream } from './live-call';
import { StreamPlayout } from './playout/playout';
import type { PlayoutOutput } from './playout/types';
import type { CallInputListener, InboundAudioSink } from './ports';
import type { MediaSession, MediaSessionEvents, MediaSocket } from './session/media-session';
import { StreamTransport } from './session/stream-transport';

/** A call's conversation outlives a replaced media socket (stream restart): wait this long for the new one. */
export const ORPHAN_GRACE_MS = 5000;
/** Health checks every 100 ms: fine enough for grace periods of ~1 s, one timer for all calls. */
const TICK_MS = 100;
/**
 * A tick this long after the previous one (≥ 100 ms late) means the event loop was blocked — a
 * CPU-starved process. Timers run before the loop polls sockets, so frames that arrived during the
 * block are still unread: a health check now would blame the peer for our own stall and restart a
 * healthy stream. Such a tick skips the checks; the next one, after the sockets were read, judges
 * (whatever its own lateness, so a loop that is late all the time still checks every other tick).
 */
const LATE_TICK_MS = 2 * TICK_MS;

export interface LiveCallsDeps {
  playbackMode: 'url' | 'stream';
  /** Codec we asked Telnyx to accept on the bidirectional stream. */
  bidirectionalCodec: string;
  audioPublicBaseUrl: string;
  audioStorageDir: string;
  commands: CallCommands;
  /** Builds a call's conversation (the composition root's one factory for phone and browser calls). */
  conversationFor(c: { call: CallRecord; tenant: TenantConfig | undefined; voice: AgentVoice; commands: CallCommands; speech: SpeechControl }): CallConversation;
  /** One stream's speech pipeline (src/media/speech/create-speech-pipeline.ts). */
  pipelineFor(call: CallRecord, tenant: TenantConfig | undefined, listener: CallInputListener): LiveStream['pipeline'];
  /** One stream's media session (src/media/session/session-factory.ts createSessionFactory). */
  sessionFor(callControlId: string, socket: MediaSocket, sink: InboundAudioSink, events: MediaSessionEvents, restartsSoFar: number): MediaSession;
  metrics: Metrics;
  logger: Logger;
  /** The ticker, lateness and orphan grace timers. Default: real timers. */
  timers?: Timers;
}

/** Per media socket: its messages and its end, for the WebSocket edge (src/api/media-ws.ts). */
export interface StreamHandle {
  /** One message: the socket's bytes (read without a string when it is a compact media frame) or text. */
  receive(data: string | Buffer): void;
  socketClosed(): void;
}

/**
 * The live phone calls of this instance, one per call: the routing of media sockets and call-bus
 * messages to them, and one shared ticker for every stream's health check. A second stream for a
 * call replaces the first (Telnyx opens a new connection after a restart or codec fallback; the
 * newest is the live one). A call leaves the registry when it ends.
 */
export class LiveCalls {
  private readonly calls = new Map<string, LiveCall<StreamTransport>>();
  private readonly stopTicker: CancelTimer;
  private readonly timers: Timers;
  private lastTickAt: number | undefined;
  private skippedLastTick = false;

  constructor(private readonly d: LiveCallsDeps) {
    this.timers = d.timers ?? realTimers;
    this.stopTicker = this.timers.every(TICK_MS, () => this.tick());
  }

  get size(): number {
    return this.calls.size;
  }

  /** The ids of the live calls (a snapshot: safe to end calls while iterating). */
  ids(): string[] {
    return [...this.calls.keys()];
  }

  get(callControlId: string): LiveCall<StreamTransport> | undefined {
    return this.calls.get(callControlId);
  }

  /**
   * A media socket connected for `call`: the call's first stream, or one replacing its current
   * stream. The socket's messages go straight to its transport (a mark reaches the playout one call later).
   */
  attach(call: CallRecord, tenant: TenantConfig | undefined, socket: MediaSocket): StreamHandle {
    const id = call.callControlId;
    const live = this.calls.get(id);
    // The session's restart budget spans the call's streams.
    const transport = new StreamTransport(socket, (s, sink, events, restarts) => this.d.sessionFor(id, s, sink, events, restarts), live?.stream?.transport.restartCount ?? 0);
    if (live) {
      live.attach(transport);
      return transport;
    }
    this.calls.set(id, this.create(call, tenant, transport));
    this.countStreams();
    return transport;
  }

  private create(call: CallRecord, tenant: TenantConfig | undefined, transport: StreamTransport): LiveCall<StreamTransport> {
    const live = new LiveCall(
      call.callControlId,
      {
        audioOutput: (out, events) => this.audioOutput(call, out, events),
        conversation: (voice, speech) => this.d.conversationFor({ call, tenant, voice, commands: this.d.commands, speech }),
        pipeline: (listener) => this.d.pipelineFor(call, tenant, listener),
        orphanGraceMs: ORPHAN_GRACE_MS,
        timers: this.timers,
      },
      transport,
    );
    live.on('stateChange', (next: LiveCallState<StreamTransport>, previous: LiveCallState<StreamTransport>) => this.onStateChange(live, next, previous));
    return live;
  }

  private audioOutput(call: CallRecord, output: PlayoutOutput, events: VoiceEvents): AudioOutput {
    if (this.d.playbackMode !== 'stream') return { voice: new UrlVoice(call.callControlId, this.d.commands, this.d.audioPublicBaseUrl, events, undefined, this.timers) };
    const encoding = normalizeEncoding(this.d.bidirectionalCodec) ?? 'PCMU';
    const voice = new StreamVoice(
      (ev) => new StreamPlayout({ output, encoding, codecRate: nativeRate(encoding), events: ev, logger: this.d.logger }),
      this.d.audioStorageDir,
      events,
      this.d.logger,
    );
    return { voice, playout: voice.playout };
  }

  private onStateChange(live: LiveCall<StreamTransport>, next: LiveCallState<StreamTransport>, previous: LiveCallState<StreamTransport>): void {
    if ('stream' in previous && 'stream' in next && previous.stream !== next.stream) {
      this.d.metrics.mediaConnections.inc({ outcome: 'replaced' });
      this.d.logger.info({ callControlId: live.callControlId }, 'media stream replaced by a newer connection');
    }
    if (next.kind === 'ended' && this.calls.get(live.callControlId) === live) this.calls.delete(live.callControlId);
    this.countStreams();
  }

  /** The media_sessions gauge: calls with a stream attached (≤ the calls of one instance, a few hundred). */
  private countStreams(): void {
    let n = 0;
    for (const c of this.calls.values()) if (c.stream) n += 1;
    this.d.metrics.mediaSessions.set(n);
  }

  onBus(msg: BusMessage): void {
    this.calls.get(msg.callId)?.onBus(msg);
  }

  private tick(): void {
    const now = this.timers.now();
    const late = this.lastTickAt !== undefined && now - this.lastTickAt >= LATE_TICK_MS;
    this.lastTickAt = now;
    if (late && !this.skippedLastTick) {
      this.skippedLastTick = true;
      return;
    }
    this.skippedLastTick = false;
    for (const c of this.calls.values()) {
      try {
        c.tick();
      } catch (err) {
        this.d.logger.error({ callControlId: c.callControlId, err: (err as Error).message }, 'session tick failed');
      }
    }
  }

  closeAll(code: number, reason: string): void {
    this.stopTicker();
    for (const c of [...this.calls.values()]) c.end({ code, reason });
    this.calls.clear();
    this.d.metrics.mediaSessions.set(0);
  }
}
