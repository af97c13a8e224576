import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import { createDecoder, isL16Rate, normalizeEncoding, type Decoder, type Encoding } from '../audio/codecs';
import { parseInbound, type InboundFrame, type MediaTrack, type ParseFailure } from '../../lib/telnyx/media-protocol';
import { decodeBase64Bytes, type CompactMedia } from '../../lib/telnyx/media-frame-bytes';
import type { InboundAudioSink } from '../ports';
import { IngestHealthMonitor, type IngestHealthConfig } from './ingest-health';
import { ReorderBuffer, type ReorderEvent } from '../jitter/reorder-buffer';

/** The socket as the session sees it: text out, close. */
export interface MediaSocket {
  send(text: string): void;
  close(code: number, reason: string): void;
}

/** Asks Telnyx to restart the call's stream (optionally in another codec). */
export interface StreamControl {
  restart(callControlId: string, codec: Encoding, reason: string): Promise<void>;
}

export interface MediaSessionDeps {
  health: IngestHealthConfig;
  /** Consecutive undecodable frames before re-requesting the stream in PCMU. */
  decodeFailuresBeforeFallback: number;
  /** An AMR-WB frame decoding to fewer bytes than this counts as a failure. */
  amrwbMinDecodedBytes: number;
  l16ByteOrder: 'be' | 'le' | 'auto';
  /** Restarts (stall or fallback) allowed per call; more would only loop. */
  maxRestarts: number;
  streamControl: StreamControl;
  /** Decoded caller audio goes here: the call's speech pipeline, built before the session. */
  sink: InboundAudioSink;
  /** What the stream reports to its call. */
  events: MediaSessionEvents;
  metrics: Metrics;
  logger: Logger;
  now(): number;
}

/** The stream's phases: before Telnyx's `start`, decoding, waiting for a restarted stream, closed (final). */
export type StreamPhase = 'awaiting_start' | 'streaming' | 'restarting' | 'closed';

export interface MediaSessionEvents {
  dtmf(digit: string): void;
  /** A stream `mark` frame. Its live call routes marks to the playout before they reach a session. */
  mark?(name: string): void;
  /** A stream started and its decoder is ready (every start, also after a restart). */
  streamStarted?(): void;
  /** Every phase change, after it happened (the `closed` one after the teardown). */
  phaseChanged?(phase: StreamPhase, previous: StreamPhase): void;
}

/** Frames held back to restore order: 3 × 20 ms = 60 ms of added delay, only when a frame is missing. */
export const REORDER_WINDOW = 3;
/**
 * Silence inserted for missing frames per frame received, at most: 10 × 20 ms = 200 ms. Covers a
 * real burst loss and stays below any end-of-turn silence, so a numbering jump cannot end the
 * caller's turn by itself; a larger jump resyncs to the new number (ReorderBuffer).
 */
export const MAX_GAP_FILL_FRAMES = 10;
/** Consecutive frames far behind, counting up, that mean Telnyx restarted the numbering: 60 ms lost. */
export const LATE_RUN_TO_RESYNC = 3;
/**
 * Longest silence one missing frame is concealed with: 60 ms, the longest packet time telephony
 * uses. Telnyx sends 20 ms frames; a 6 s frame next to a gap must not become 6 s of silence per hole.
 */
export const MAX_GAP_FRAME_MS = 60;
/** 60 ms at the highest rate a decoder here produces (48 kHz: L16, Opus). */
const MAX_GAP_FRAME_SAMPLES = (48_000 * MAX_GAP_FRAME_MS) / 1000;
/** Largest base64 media payload we decode (the socket's maxPayload bounds it anyway). */
const MAX_PAYLOAD_BYTES = 64 * 1024;
/** WebSocket close code 1003 "unsupported data" (RFC 6455 §7.4.1): a stream format we do not run. */
const CLOSE_UNSUPPORTED_DATA = 1003;
/** Telnyx `error` frames logged per stream: enough to diagnose, not a log flood a peer can drive at frame rate. */
const MAX_ERROR_LOGS = 5;

/** A media frame's base64 payload: a string (full parse) or a view of the message's bytes (compact frame). */
type MediaPayload = string | Uint8Array;

/**
 * One Telnyx media stream of one call: parses frames, restores order, decodes, watches stream
 * health and hands PCM to the call's audio sink. Never throws on bad input: malformed frames are
 * counted and dropped, the call goes on.
 */
export class MediaSession {
  private phase: StreamPhase = 'awaiting_start';
  private decoder: Decoder | undefined;
  private encoding: Encoding | undefined;
  private consecutiveFailures = 0;
  private restarts = 0;
  private lastFrameSamples = 160;
  private readonly silence = new Int16Array(MAX_GAP_FRAME_SAMPLES);
  private scratch = Buffer.alloc(4096);
  private handlerErrorLogged = false;
  /** Telnyx `error` frames logged on this stream; past MAX_ERROR_LOGS they are only counted. */
  private errorFramesLogged = 0;
  private readonly reorder: ReorderBuffer<MediaPayload>;
  private readonly monitor: IngestHealthMonitor;
  private readonly sink: InboundAudioSink;
  private readonly frames;
  private readonly reorderEvents: Record<ReorderEvent, { inc(): void }>;

  constructor(
    readonly callControlId: string,
    private readonly socket: MediaSocket,
    private readonly d: MediaSessionDeps,
    restartsSoFar = 0,
  ) {
    this.restarts = restartsSoFar;
    this.reorder = new ReorderBuffer<MediaPayload>(REORDER_WINDOW, (p) => this.decode(p), (n) => this.fillGap(n), {
      maxGapFill: MAX_GAP_FILL_FRAMES,
      lateRunToResync: LATE_RUN_TO_RESYNC,
      onEvent: (e) => this.reorderEvents[e].inc(),
      // A held-back payload read from the socket's bytes is a view of the whole read chunk: copy it.
      retain: (p) => (typeof p === 'string' ? p : Uint8Array.prototype.slice.call(p)),
    });
    this.monitor = new IngestHealthMonitor(d.health);
    this.monitor.onStreamStart(d.now());
    this.sink = d.sink;
    const c = d.metrics.mediaFrames;
    this.frames = {
      decoded: d.metrics.mediaFrameDecoded,
      failed: c.labels('decode_failed'),
      invalid: c.labels('invalid'),
      unknown: c.labels('unknown_event'),
      gap: c.labels('gap_filled'),
      notStreaming: c.labels('not_streaming'),
      startRejected: c.labels('start_rejected'),
      handlerError: c.labels('handler_error'),
      errorEvent: c.labels('error_event'),
    };
    this.reorderEvents = { late: c.labels('late'), duplicate: c.labels('duplicate'), resync: c.labels('resync'), invalid: this.frames.invalid };
  }

  get restartCount(): number {
    return this.restarts;
  }

  get currentEncoding(): Encoding | undefined {
    return this.encoding;
  }

  get currentPhase(): StreamPhase {
    return this.phase;
  }

  /**
   * The one place the phase changes. Entering `closed` tears down what the stream owns (decoder,
   * the sink it feeds, the socket); `streaming` starts a fresh health window.
   */
  private setPhase(next: StreamPhase, close?: { code: number; reason: string }): void {
    const previous = this.phase;
    if (previous === 'closed') return;
    this.phase = next;
    if (next === 'streaming') this.monitor.onStreamStart(this.d.now());
    if (next === 'closed') {
      this.decoder?.close();
      this.sink.close();
    }
    if (next !== previous) this.d.events.phaseChanged?.(next, previous);
    if (next === 'closed') this.socket.close(close?.code ?? 1000, close?.reason ?? 'closed');
  }

  /** One text message from the socket. Never throws: the socket's message handler must not. */
  handleMessage(data: string): void {
    if (this.phase === 'closed') return;
    this.handleFrame(parseInbound(data));
  }

  /** One parsed frame (its live call parses once to route marks). Never throws. */
  handleFrame(frame: InboundFrame | ParseFailure): void {
    if (this.phase === 'closed') return;
    try {
      if (frame.kind === 'invalid') {
        this.frames.invalid.inc();
        this.d.logger.debug({ callControlId: this.callControlId, reason: frame.reason }, 'invalid media frame dropped');
        return;
      }
      this.onFrame(frame);
    } catch (err) {
      this.handlerFailed(err);
    }
  }

  /**
   * A bug or a failing sink, not bad input (that is counted where it is found): counted always,
   * logged once per stream so a frame-rate error cannot flood the log.
   */
  private handlerFailed(err: unknown): void {
    this.frames.handlerError.inc();
    if (this.handlerErrorLogged) return;
    this.handlerErrorLogged = true;
    this.d.logger.error({ callControlId: this.callControlId, err: (err as Error)?.message }, 'media frame handling failed');
  }

  private onFrame(f: InboundFrame): void {
    switch (f.kind) {
      case 'start':
        return this.onStart(f.encoding, f.sampleRate);
      case 'media':
        return this.onMedia(f.track, f.chunk ?? f.seq, f.payloadB64);
      case 'dtmf':
        if (f.digit) this.d.events.dtmf(f.digit);
        return;
      case 'error':
        this.frames.errorEvent.inc();
        if (this.errorFramesLogged < MAX_ERROR_LOGS) {
          this.errorFramesLogged += 1;
          const last = this.errorFramesLogged === MAX_ERROR_LOGS ? ' (further ones on this stream are only counted)' : '';
          this.d.logger.warn({ callControlId: this.callControlId, code: f.code, title: f.title, detail: f.detail }, `media stream error from Telnyx${last}`);
        }
        return;
      case 'mark':
        this.d.events.mark?.(f.name);
        return;
      case 'stop':
        this.reorder.flush();
        this.setPhase('restarting');
        return;
      case 'unknown':
        this.frames.unknown.inc();
        return;
      default:
        return; // connected: nothing to do
    }
  }

  /**
   * A compact media frame read from the message's bytes (src/lib/telnyx/media-frame-bytes.ts):
   * its payload is a view of the message, base64 still. Never throws, as handleFrame.
   */
  handleCompactMedia(message: Uint8Array, f: CompactMedia): void {
    if (this.phase === 'closed') return;
    try {
      this.onMedia(f.track, f.chunk, message.subarray(f.payloadStart, f.payloadEnd));
    } catch (err) {
      this.handlerFailed(err);
    }
  }

  private onMedia(track: MediaTrack, key: number | undefined, payload: MediaPayload): void {
    if (track !== 'inbound') return;
    if (this.phase === 'awaiting_start') this.onStart('PCMU'); // media before start: assume the Telnyx default
    if (this.phase !== 'streaming' || !this.decoder) {
      this.frames.notStreaming.inc(); // after stop, or while a restart is pending
      return;
    }
    if (key === undefined) this.reorder.pushUnnumbered(payload);
    else this.reorder.push(key, payload);
  }

  private onStart(encodingName: string, sampleRate?: number): void {
    const encoding = normalizeEncoding(encodingName);
    if (encoding === 'L16' && sampleRate !== undefined && !isL16Rate(sampleRate)) {
      // Not a rate Telnyx streams at, so a broken or hostile peer: no fallback to negotiate, refuse the stream.
      this.frames.startRejected.inc();
      this.d.logger.warn({ callControlId: this.callControlId, encoding, sampleRate }, 'unsupported L16 sample rate; closing the media stream');
      this.close(CLOSE_UNSUPPORTED_DATA, 'unsupported L16 sample rate');
      return;
    }
    // A new stream numbers its frames afresh: play out what the old one left, then forget its numbering.
    this.reorder.reset();
    this.decoder?.close();
    this.decoder = undefined;
    this.setPhase('streaming');
    if (!encoding) {
      this.d.logger.warn({ callControlId: this.callControlId, encoding: encodingName }, 'unsupported stream encoding; requesting PCMU');
      void this.requestRestart('PCMU', 'codec_fallback');
      return;
    }
    try {
      this.decoder = createDecoder(encoding, { sampleRate, l16ByteOrder: this.d.l16ByteOrder });
      this.encoding = encoding;
      this.lastFrameSamples = this.decoder.sampleRate / 50;
      this.d.events.streamStarted?.();
    } catch (err) {
      this.d.logger.warn({ callControlId: this.callControlId, encoding, err: (err as Error).message }, 'decoder unavailable; requesting PCMU');
      void this.requestRestart('PCMU', 'codec_fallback');
    }
  }

  private decode(payloadB64: MediaPayload): void {
    const dec = this.decoder;
    if (!dec || this.phase !== 'streaming') return;
    const need = Math.ceil((payloadB64.length * 3) / 4);
    if (need > MAX_PAYLOAD_BYTES) return this.onDecodeFailure();
    if (need > this.scratch.length) this.scratch = Buffer.alloc(Math.min(MAX_PAYLOAD_BYTES, need * 2));
    const n = typeof payloadB64 === 'string' ? this.scratch.write(payloadB64, 'base64') : decodeBase64Bytes(payloadB64, 0, payloadB64.length, this.scratch);
    if (n < 0) return this.onDecodeFailure(); // not reachable from the byte parser (it checked the alphabet); kept as a bound
    const pcm = dec.decode(this.scratch.subarray(0, n));
    if (!pcm || pcm.length === 0 || (dec.encoding === 'AMR-WB' && pcm.length * 2 < this.d.amrwbMinDecodedBytes)) {
      return this.onDecodeFailure();
    }
    this.consecutiveFailures = 0;
    this.lastFrameSamples = pcm.length;
    this.frames.decoded.inc();
    this.monitor.onAudio(this.d.now(), (pcm.length * 1000) / dec.sampleRate);
    this.sink.pushPcm(pcm, dec.sampleRate);
  }

  private onDecodeFailure(): void {
    this.frames.failed.inc();
    this.consecutiveFailures += 1;
    if (this.consecutiveFailures >= this.d.decodeFailuresBeforeFallback && this.encoding !== 'PCMU') {
      this.d.logger.warn(
        { callControlId: this.callControlId, encoding: this.encoding, failures: this.consecutiveFailures },
        'repeated decode failures; re-requesting the stream in PCMU',
      );
      void this.requestRestart('PCMU', 'codec_fallback');
    }
  }

  /**
   * Lost frames: silence of the last frame's length keeps the audio timeline (and VAD timing)
   * right. Bounded: ≤ MAX_GAP_FILL_FRAMES per call (the reorder buffer's limit, enforced again
   * here), each ≤ MAX_GAP_FRAME_MS.
   */
  private fillGap(frames: number): void {
    const dec = this.decoder;
    if (!dec || this.phase !== 'streaming') return;
    const samples = Math.min(this.lastFrameSamples, Math.floor((dec.sampleRate * MAX_GAP_FRAME_MS) / 1000), this.silence.length);
    const s = this.silence.subarray(0, samples);
    for (let i = 0; i < Math.min(frames, MAX_GAP_FILL_FRAMES); i += 1) {
      s.fill(0); // the sink may filter in place (high-pass at 16 kHz): hand it clean zeros every time
      this.frames.gap.inc();
      this.sink.pushPcm(s, dec.sampleRate);
    }
  }

  /** Called by the registry's shared ticker; `now` on the session's own clock. */
  tick(now = this.d.now()): void {
    if (this.phase !== 'streaming' && this.phase !== 'awaiting_start') return;
    const verdict = this.monitor.check(now);
    if (verdict === 'ok') return;
    this.monitor.reset();
    this.d.logger.warn({ callControlId: this.callControlId, verdict, encoding: this.encoding }, 'inbound media stream unhealthy');
    if (this.d.health.restartEnabled) void this.requestRestart(this.encoding ?? 'PCMU', verdict);
  }

  /** Our playback ended (url mode webhook or stream-mode mark): expect caller audio to keep flowing. */
  onPlaybackEnded(): void {
    this.monitor.onPlaybackEnded(this.d.now());
  }

  private async requestRestart(codec: Encoding, reason: string): Promise<void> {
    if (this.phase === 'restarting' || this.phase === 'closed') return;
    if (this.restarts >= this.d.maxRestarts) {
      this.d.logger.error({ callControlId: this.callControlId, reason, restarts: this.restarts }, 'stream restart limit reached; not restarting again');
      return;
    }
    this.restarts += 1;
    this.setPhase('restarting');
    this.d.metrics.ingestRestarts.inc({ reason });
    this.d.logger.warn({ callControlId: this.callControlId, codec, reason, restart: this.restarts }, 'restarting media stream');
    try {
      await this.d.streamControl.restart(this.callControlId, codec, reason);
    } catch (err) {
      this.d.logger.error({ callControlId: this.callControlId, err: (err as Error).message }, 'stream restart request failed');
    }
  }

  close(code = 1000, reason = 'closed'): void {
    this.setPhase('closed', { code, reason });
  }
}
