import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import { createDecoder, normalizeEncoding, type Decoder, type Encoding } from '../audio/codecs';
import { parseInbound, type InboundFrame } from '../protocol/telnyx-media-protocol';
import type { CallInputListener, InboundAudioSink } from './call-input';
import { IngestHealthMonitor, type IngestHealthConfig } from './ingest-health';
import { ReorderBuffer } from './reorder-buffer';

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
  sinkFor(callControlId: string, listener: CallInputListener): InboundAudioSink;
  listener: CallInputListener;
  /** Stream lifecycle hooks for the call's conversation (greeting on start, marks for playout). */
  hooks?: { onStreamStart?(): void; onMark?(name: string): void; onClosed?(): void };
  metrics: Metrics;
  logger: Logger;
  now(): number;
}

/** Frames held back to restore order: 3 × 20 ms = 60 ms of added delay, only when a frame is missing. */
const REORDER_WINDOW = 3;
/** Largest base64 media payload we decode (the socket's maxPayload bounds it anyway). */
const MAX_PAYLOAD_BYTES = 64 * 1024;

type Phase = 'awaiting_start' | 'streaming' | 'restarting' | 'closed';

/**
 * One Telnyx media stream of one call: parses frames, restores order, decodes, watches stream
 * health and hands PCM to the call's audio sink. Never throws on bad input: malformed frames are
 * counted and dropped, the call goes on.
 */
export class MediaSession {
  private phase: Phase = 'awaiting_start';
  private decoder: Decoder | undefined;
  private encoding: Encoding | undefined;
  private consecutiveFailures = 0;
  private restarts = 0;
  private lastFrameSamples = 160;
  private silence = new Int16Array(320);
  private scratch = Buffer.alloc(4096);
  private readonly reorder: ReorderBuffer<string>;
  private readonly monitor: IngestHealthMonitor;
  readonly sink: InboundAudioSink;
  private readonly frames;

  constructor(
    readonly callControlId: string,
    private readonly socket: MediaSocket,
    private readonly d: MediaSessionDeps,
    restartsSoFar = 0,
  ) {
    this.restarts = restartsSoFar;
    this.reorder = new ReorderBuffer<string>(REORDER_WINDOW, (p) => this.decode(p), (n) => this.fillGap(n));
    this.monitor = new IngestHealthMonitor(d.health);
    this.monitor.onStreamStart(d.now());
    this.sink = d.sinkFor(callControlId, d.listener);
    const c = d.metrics.mediaFrames;
    this.frames = {
      decoded: c.labels('decoded'),
      failed: c.labels('decode_failed'),
      invalid: c.labels('invalid'),
      unknown: c.labels('unknown_event'),
      gap: c.labels('gap_filled'),
    };
  }

  get restartCount(): number {
    return this.restarts;
  }

  get currentEncoding(): Encoding | undefined {
    return this.encoding;
  }

  handleMessage(data: string): void {
    if (this.phase === 'closed') return;
    const frame = parseInbound(data);
    if (frame.kind === 'invalid') {
      this.frames.invalid.inc();
      this.d.logger.debug({ callControlId: this.callControlId, reason: frame.reason }, 'invalid media frame dropped');
      return;
    }
    this.onFrame(frame);
  }

  private onFrame(f: InboundFrame): void {
    switch (f.kind) {
      case 'start':
        return this.onStart(f.encoding, f.sampleRate);
      case 'media':
        if (f.track !== 'inbound') return;
        if (!this.decoder) this.onStart('PCMU', 8000); // media before start: assume the Telnyx default
        this.reorder.push(f.chunk ?? f.seq ?? 0, f.payloadB64);
        return;
      case 'dtmf':
        if (f.digit) this.d.listener.dtmf(f.digit);
        return;
      case 'error':
        this.d.logger.warn({ callControlId: this.callControlId, code: f.code, title: f.title, detail: f.detail }, 'media stream error from Telnyx');
        return;
      case 'mark':
        this.d.hooks?.onMark?.(f.name);
        return;
      case 'stop':
        this.reorder.flush();
        this.phase = 'restarting';
        return;
      case 'unknown':
        this.frames.unknown.inc();
        return;
      default:
        return; // connected: nothing to do
    }
  }

  private onStart(encodingName: string, sampleRate?: number): void {
    const encoding = normalizeEncoding(encodingName);
    this.decoder?.close();
    this.decoder = undefined;
    this.phase = 'streaming';
    this.monitor.onStreamStart(this.d.now());
    if (!encoding) {
      this.d.logger.warn({ callControlId: this.callControlId, encoding: encodingName }, 'unsupported stream encoding; requesting PCMU');
      void this.requestRestart('PCMU', 'codec_fallback');
      return;
    }
    try {
      this.decoder = createDecoder(encoding, { sampleRate, l16ByteOrder: this.d.l16ByteOrder });
      this.encoding = encoding;
      this.d.hooks?.onStreamStart?.();
    } catch (err) {
      this.d.logger.warn({ callControlId: this.callControlId, encoding, err: (err as Error).message }, 'decoder unavailable; requesting PCMU');
      void this.requestRestart('PCMU', 'codec_fallback');
    }
  }

  private decode(payloadB64: string): void {
    const dec = this.decoder;
    if (!dec || this.phase !== 'streaming') return;
    const need = Math.ceil((payloadB64.length * 3) / 4);
    if (need > MAX_PAYLOAD_BYTES) return this.onDecodeFailure();
    if (need > this.scratch.length) this.scratch = Buffer.alloc(Math.min(MAX_PAYLOAD_BYTES, need * 2));
    const n = this.scratch.write(payloadB64, 'base64');
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

  /** A lost frame: silence of the same length keeps the audio timeline (and VAD timing) right. */
  private fillGap(frames: number): void {
    const dec = this.decoder;
    if (!dec || this.phase !== 'streaming') return;
    if (this.silence.length < this.lastFrameSamples) this.silence = new Int16Array(this.lastFrameSamples);
    const s = this.silence.subarray(0, this.lastFrameSamples);
    for (let i = 0; i < frames; i += 1) {
      this.frames.gap.inc();
      this.sink.pushPcm(s, dec.sampleRate);
    }
  }

  /** Called by the registry's shared ticker. */
  tick(now: number): void {
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
    this.phase = 'restarting';
    this.d.metrics.ingestRestarts.inc({ reason });
    this.d.logger.warn({ callControlId: this.callControlId, codec, reason, restart: this.restarts }, 'restarting media stream');
    try {
      await this.d.streamControl.restart(this.callControlId, codec, reason);
    } catch (err) {
      this.d.logger.error({ callControlId: this.callControlId, err: (err as Error).message }, 'stream restart request failed');
    }
  }

  close(code = 1000, reason = 'closed'): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.decoder?.close();
    this.sink.close();
    this.d.hooks?.onClosed?.();
    this.socket.close(code, reason);
  }
}
