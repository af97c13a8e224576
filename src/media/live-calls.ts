import type { BusMessage } from '../lib/call-bus';
import type { CallRecord } from '../lib/calls/call-store';
import type { Logger } from '../lib/logger';
import type { Metrics } from '../lib/metrics';
import type { TenantConfig } from '../lib/tenants/tenant-config';
import { nativeRate, normalizeEncoding } from './audio/codecs';
import type { AgentVoice, VoiceEvents } from './conversation/agent-voice';
import type { SpeechControl } from './conversation/conversation';
import { StreamVoice } from './conversation/stream-voice';
import { UrlVoice, type CallCommands } from './conversation/url-voice';
import { LiveCall, type AudioOutput, type CallConversation, type LiveCallState, type LiveStream, type StreamHandle } from './live-call';
import { StreamPlayout } from './playout/playout';
import type { CallInputListener, InboundAudioSink } from './ports';
import type { MediaSession, MediaSessionEvents, MediaSocket } from './session/media-session';

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
  /** One stream's speech pipeline (src/media/session/session-factory.ts createSpeechPipeline). */
  pipelineFor(call: CallRecord, tenant: TenantConfig | undefined, listener: CallInputListener): LiveStream['pipeline'];
  /** One stream's media session (src/media/session/session-factory.ts createSessionFactory). */
  sessionFor(callControlId: string, socket: MediaSocket, sink: InboundAudioSink, events: MediaSessionEvents, restartsSoFar: number): MediaSession;
  metrics: Metrics;
  logger: Logger;
  now?: () => number;
}

/**
 * The live phone calls of this instance, one per call: the routing of media sockets and call-bus
 * messages to them, and one shared ticker for every stream's health check. A second stream for a
 * call replaces the first (Telnyx opens a new connection after a restart or codec fallback; the
 * newest is the live one). A call leaves the registry when it ends.
 */
export class LiveCalls {
  private readonly calls = new Map<string, LiveCall>();
  private readonly ticker: NodeJS.Timeout;
  private readonly now: () => number;
  private lastTickAt: number | undefined;
  private skippedLastTick = false;

  constructor(private readonly d: LiveCallsDeps) {
    this.now = d.now ?? Date.now;
    this.ticker = setInterval(() => this.tick(), TICK_MS);
    this.ticker.unref();
  }

  get size(): number {
    return this.calls.size;
  }

  /** The ids of the live calls (a snapshot: safe to end calls while iterating). */
  ids(): string[] {
    return [...this.calls.keys()];
  }

  get(callControlId: string): LiveCall | undefined {
    return this.calls.get(callControlId);
  }

  /** A media socket connected for `call`: the call's first stream, or one replacing its current stream. */
  attach(call: CallRecord, tenant: TenantConfig | undefined, socket: MediaSocket): StreamHandle {
    const live = this.calls.get(call.callControlId);
    if (live) {
      live.attach(socket);
      return live.currentStream();
    }
    const created = this.create(call, tenant, socket);
    this.calls.set(call.callControlId, created);
    this.countStreams();
    return created.currentStream();
  }

  private create(call: CallRecord, tenant: TenantConfig | undefined, socket: MediaSocket): LiveCall {
    const id = call.callControlId;
    const live = new LiveCall(
      id,
      {
        audioOutput: (send, events) => this.audioOutput(call, send, events),
        conversation: (voice, speech) => this.d.conversationFor({ call, tenant, voice, commands: this.d.commands, speech }),
        pipeline: (listener) => this.d.pipelineFor(call, tenant, listener),
        session: (s, sink, events, restarts) => this.d.sessionFor(id, s, sink, events, restarts),
        orphanGraceMs: ORPHAN_GRACE_MS,
      },
      socket,
    );
    live.on('stateChange', (next: LiveCallState, previous: LiveCallState) => this.onStateChange(live, next, previous));
    return live;
  }

  private audioOutput(call: CallRecord, send: (text: string) => void, events: VoiceEvents): AudioOutput {
    if (this.d.playbackMode !== 'stream') return { voice: new UrlVoice(call.callControlId, this.d.commands, this.d.audioPublicBaseUrl, events) };
    const encoding = normalizeEncoding(this.d.bidirectionalCodec) ?? 'PCMU';
    const voice = new StreamVoice(
      (ev) => new StreamPlayout({ send, encoding, codecRate: nativeRate(encoding), events: ev, logger: this.d.logger }),
      this.d.audioStorageDir,
      events,
      this.d.logger,
    );
    return { voice, playout: voice.playout };
  }

  private onStateChange(live: LiveCall, next: LiveCallState, previous: LiveCallState): void {
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
    const now = this.now();
    const late = this.lastTickAt !== undefined && now - this.lastTickAt >= LATE_TICK_MS;
    this.lastTickAt = now;
    if (late && !this.skippedLastTick) {
      this.skippedLastTick = true;
      return;
    }
    this.skippedLastTick = false;
    for (const c of this.calls.values()) {
      try {
        c.tick(now);
      } catch (err) {
        this.d.logger.error({ callControlId: c.callControlId, err: (err as Error).message }, 'session tick failed');
      }
    }
  }

  closeAll(code: number, reason: string): void {
    clearInterval(this.ticker);
    for (const c of [...this.calls.values()]) c.end({ code, reason });
    this.calls.clear();
    this.d.metrics.mediaSessions.set(0);
  }
}
