/**
 * A Telnyx media-stream client: connects to a runtime's stream_url like Telnyx does and sends the
 * real wire format (connected, start, media with string sequence numbers, dtmf, stop). Plays what
 * the runtime sends back like Telnyx (bidirectional RTP): decodes it, advances a playhead, echoes
 * marks when the audio before them has played, obeys clear. Used by the Telnyx simulator and by
 * tests (tests/fakes/fake-media-client.ts re-exports it as FakeMediaClient).
 */
import WebSocket from 'ws';
import { createDecoder, normalizeEncoding, type Decoder } from '../../src/media/audio/codecs';

export interface MediaClientOptions {
  url: string;
  headers?: Record<string, string>;
  callControlId: string;
  /** Codec of the caller audio we send, as announced in `start.media_format`. */
  encoding: string;
  sampleRate: number;
  /** Play what the runtime sends in real time and echo its marks when the audio before them has played, as Telnyx does. */
  playback?: boolean;
  /** `start` frame fields (defaults: +15550001111 → +15551234567, session "session"). */
  from?: string;
  to?: string;
  callSessionId?: string;
  clientState?: string;
  /** Codec and rate of the audio the runtime sends back; default `encoding` at `sampleRate`. */
  agentEncoding?: string;
  agentSampleRate?: number;
  /** Keep every decoded agent chunk in `agentAudio` (default true; load tests turn it off). */
  keepAgentAudio?: boolean;
  /** Each decoded agent chunk, with the performance.now() at which it starts playing. */
  onAgentAudio?: (pcm: Int16Array, sampleRate: number, playAt: number) => void;
  /** The runtime sent `clear` at `at` (performance.now()). */
  onClear?: (at: number) => void;
}

export interface ReceivedMessage {
  event: string;
  raw: Record<string, unknown>;
  at: number;
}

export class MediaStreamClient {
  readonly received: ReceivedMessage[] = [];
  closeCode: number | undefined;
  closeReason = '';
  private seq = 0;
  private chunk = 0;
  private ts = 0;
  readonly streamId = `stream-${Math.random().toString(36).slice(2)}`;
  /** Agent audio received (decoded PCM, one entry per media message) unless keepAgentAudio is false. */
  readonly agentAudio: Int16Array[] = [];
  agentSamples = 0;
  clears = 0;
  /** Media messages sent / agent media messages received / marks received and echoed. */
  framesSent = 0;
  agentMessages = 0;
  marksReceived = 0;
  marksEchoed = 0;
  /** performance.now() of the first and the latest agent media message. */
  firstAgentAudioAt: number | undefined;
  lastAgentAudioAt: number | undefined;
  private decoder: Decoder | undefined;
  /** performance.now() when the audio received so far has finished "playing". */
  private playhead = 0;
  private readonly pendingMarks: { timer: NodeJS.Timeout; name: string }[] = [];
  private readonly keepReceived: boolean;

  private constructor(
    readonly ws: WebSocket,
    private readonly opts: MediaClientOptions,
  ) {
    this.keepReceived = opts.keepAgentAudio !== false;
    ws.on('message', (data) => {
      let raw: Record<string, unknown>;
      const at = performance.now();
      try {
        raw = JSON.parse(data.toString()) as Record<string, unknown>;
      } catch {
        this.received.push({ event: 'invalid', raw: {}, at });
        return;
      }
      // Agent media is the bulk of the traffic: keep it only when asked to (memory under load).
      if (this.keepReceived || raw.event !== 'media') this.received.push({ event: String(raw.event), raw, at });
      this.onServerMessage(raw, at);
    });
    ws.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
      this.clearPendingMarks();
    });
  }

  /** Resolves once open; rejects with the HTTP status when the upgrade is refused. */
  static connect(opts: MediaClientOptions): Promise<MediaStreamClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(opts.url, { headers: opts.headers, perMessageDeflate: false });
      const client = new MediaStreamClient(ws, opts);
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode, body })));
      });
      ws.once('error', (err) => reject(err));
    });
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** performance.now() until which received agent audio keeps playing. */
  get agentPlayingUntil(): number {
    return this.playhead;
  }

  /** Plays the runtime's audio like Telnyx: decodes it, advances a playhead, echoes marks in time, obeys clear. */
  private onServerMessage(raw: Record<string, unknown>, now: number): void {
    if (raw.event === 'media') {
      const payload = Buffer.from(String((raw.media as { payload?: string })?.payload ?? ''), 'base64');
      this.decoder ??= createDecoder(normalizeEncoding(this.opts.agentEncoding ?? this.opts.encoding) ?? 'PCMU', {
        sampleRate: this.opts.agentSampleRate ?? this.opts.sampleRate,
      });
      this.agentMessages += 1;
      this.firstAgentAudioAt ??= now;
      this.lastAgentAudioAt = now;
      const pcm = this.decoder.decode(payload);
      if (pcm) {
        const startAt = Math.max(this.playhead, now);
        if (this.keepReceived) this.agentAudio.push(pcm.slice());
        this.agentSamples += pcm.length;
        this.playhead = startAt + (pcm.length * 1000) / this.decoder.sampleRate;
        this.opts.onAgentAudio?.(pcm, this.decoder.sampleRate, startAt);
      }
    } else if (raw.event === 'mark') {
      this.marksReceived += 1;
      if (!this.opts.playback) return;
      const name = String((raw.mark as { name?: string })?.name ?? '');
      const entry = {
        name,
        timer: setTimeout(() => {
          this.pendingMarks.splice(this.pendingMarks.indexOf(entry), 1);
          this.echoMark(name);
        }, Math.max(0, this.playhead - now)),
      };
      this.pendingMarks.push(entry);
    } else if (raw.event === 'clear') {
      this.clears += 1;
      this.playhead = now;
      this.opts.onClear?.(now);
      // Telnyx echoes queued marks at once on clear.
      for (const m of this.pendingMarks.splice(0)) {
        clearTimeout(m.timer);
        this.echoMark(m.name);
      }
    }
  }

  private echoMark(name: string): void {
    if (this.sendJson({ event: 'mark', stream_id: this.streamId, mark: { name } })) this.marksEchoed += 1;
  }

  /** Decoded agent audio received so far, in ms. */
  get agentMs(): number {
    return this.decoder ? (this.agentSamples * 1000) / this.decoder.sampleRate : 0;
  }

  sendRaw(text: string): void {
    this.ws.send(text);
  }

  start(): void {
    this.seq += 1;
    this.sendJson({ event: 'connected', version: '1.0.0' });
    this.sendJson({
      event: 'start',
      sequence_number: String(this.seq),
      stream_id: this.streamId,
      start: {
        call_control_id: this.opts.callControlId,
        call_session_id: this.opts.callSessionId ?? 'session',
        from: this.opts.from ?? '+15550001111',
        to: this.opts.to ?? '+15551234567',
        ...(this.opts.clientState !== undefined ? { client_state: this.opts.clientState } : {}),
        media_format: { encoding: this.opts.encoding, sample_rate: this.opts.sampleRate, channels: 1 },
      },
    });
  }

  /** One media message with the given codec bytes. */
  sendMedia(payload: Uint8Array, frameMs = 20): void {
    this.seq += 1;
    this.chunk += 1;
    if (this.sendJson(this.mediaMessage(payload, this.seq, this.chunk))) this.framesSent += 1;
    this.ts += frameMs;
  }

  mediaMessage(payload: Uint8Array, seq: number, chunk: number): Record<string, unknown> {
    return {
      event: 'media',
      sequence_number: String(seq),
      stream_id: this.streamId,
      media: { track: 'inbound', chunk: String(chunk), timestamp: String(this.ts), payload: Buffer.from(payload).toString('base64') },
    };
  }

  /** Sends frames, yielding to the event loop every `batch` frames (faster than real time unless `realtime`). */
  async stream(frames: Uint8Array[], opts: { realtime?: boolean; batch?: number; frameMs?: number } = {}): Promise<void> {
    const frameMs = opts.frameMs ?? 20;
    const t0 = performance.now();
    for (let i = 0; i < frames.length; i += 1) {
      if (this.ws.readyState !== WebSocket.OPEN) return;
      this.sendMedia(frames[i]!, frameMs);
      if (opts.realtime) {
        const due = t0 + (i + 1) * frameMs;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      } else if ((i + 1) % (opts.batch ?? 25) === 0) {
        await new Promise((r) => setImmediate(r));
      }
    }
  }

  dtmf(digit: string): void {
    this.sendJson({ event: 'dtmf', stream_id: this.streamId, dtmf: { digit } });
  }

  stop(): void {
    this.seq += 1;
    this.sendJson({ event: 'stop', sequence_number: String(this.seq), stream_id: this.streamId, stop: { call_control_id: this.opts.callControlId } });
  }

  private clearPendingMarks(): void {
    for (const m of this.pendingMarks.splice(0)) clearTimeout(m.timer);
  }

  close(): Promise<void> {
    this.clearPendingMarks();
    this.decoder?.close();
    return new Promise((resolve) => {
      if (this.ws.readyState === WebSocket.CLOSED) return resolve();
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }

  /** Closes without the closing handshake (a Telnyx-side network failure); frees the codec. */
  terminate(): void {
    this.clearPendingMarks();
    this.decoder?.close();
    this.ws.terminate();
  }

  waitClosed(timeoutMs = 5000): Promise<number> {
    return new Promise((resolve, reject) => {
      if (this.closeCode !== undefined) return resolve(this.closeCode);
      const t = setTimeout(() => reject(new Error('socket not closed in time')), timeoutMs);
      this.ws.once('close', (code) => {
        clearTimeout(t);
        resolve(code);
      });
    });
  }

  private sendJson(obj: unknown): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(obj));
    return true;
  }
}
