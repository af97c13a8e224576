/**
 * A Telnyx media-stream client: connects to a runtime's stream_url like Telnyx does and sends the
 * real wire format (connected, start, media with string sequence numbers, dtmf, stop). Records
 * what the runtime sends back (media, mark, clear) for playback tests.
 */
import WebSocket from 'ws';
import { createDecoder, normalizeEncoding, type Decoder } from '../../src/media/audio/codecs';

export interface FakeMediaClientOptions {
  url: string;
  headers?: Record<string, string>;
  callControlId: string;
  encoding: string;
  sampleRate: number;
  /** Play what the runtime sends in real time and echo its marks when the audio before them has played, as Telnyx does. */
  playback?: boolean;
}

export interface ReceivedMessage {
  event: string;
  raw: Record<string, unknown>;
  at: number;
}

export class FakeMediaClient {
  readonly received: ReceivedMessage[] = [];
  closeCode: number | undefined;
  closeReason = '';
  private seq = 0;
  private chunk = 0;
  private ts = 0;
  private readonly streamId = `stream-${Math.random().toString(36).slice(2)}`;
  /** Agent audio received (decoded PCM, concatenated per media message). */
  readonly agentAudio: Int16Array[] = [];
  agentSamples = 0;
  clears = 0;
  private decoder: Decoder | undefined;
  /** performance.now() when the audio received so far has finished "playing". */
  private playhead = 0;
  private readonly pendingMarks: { timer: NodeJS.Timeout; name: string }[] = [];

  private constructor(
    readonly ws: WebSocket,
    private readonly opts: FakeMediaClientOptions,
  ) {
    ws.on('message', (data) => {
      let raw: Record<string, unknown>;
      try {
        raw = JSON.parse(data.toString()) as Record<string, unknown>;
      } catch {
        this.received.push({ event: 'invalid', raw: {}, at: performance.now() });
        return;
      }
      this.received.push({ event: String(raw.event), raw, at: performance.now() });
      this.onServerMessage(raw);
    });
    ws.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
    });
  }

  /** Resolves once open; rejects with the HTTP status when the upgrade is refused. */
  static connect(opts: FakeMediaClientOptions): Promise<FakeMediaClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(opts.url, { headers: opts.headers });
      const client = new FakeMediaClient(ws, opts);
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode, body })));
      });
      ws.once('error', (err) => reject(err));
    });
  }

  /** Plays the runtime's audio like Telnyx: decodes it, advances a playhead, echoes marks in time, obeys clear. */
  private onServerMessage(raw: Record<string, unknown>): void {
    const now = performance.now();
    if (raw.event === 'media') {
      const payload = Buffer.from(String((raw.media as { payload?: string })?.payload ?? ''), 'base64');
      this.decoder ??= createDecoder(normalizeEncoding(this.opts.encoding) ?? 'PCMU', { sampleRate: this.opts.sampleRate });
      const pcm = this.decoder.decode(payload);
      if (pcm) {
        this.agentAudio.push(pcm.slice());
        this.agentSamples += pcm.length;
        this.playhead = Math.max(this.playhead, now) + (pcm.length * 1000) / this.decoder.sampleRate;
      }
    } else if (raw.event === 'mark' && this.opts.playback) {
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
      // Telnyx echoes queued marks at once on clear.
      for (const m of this.pendingMarks.splice(0)) {
        clearTimeout(m.timer);
        this.echoMark(m.name);
      }
    }
  }

  private echoMark(name: string): void {
    this.sendJson({ event: 'mark', stream_id: this.streamId, mark: { name } });
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
        call_session_id: 'session',
        from: '+15550001111',
        to: '+15551234567',
        media_format: { encoding: this.opts.encoding, sample_rate: this.opts.sampleRate, channels: 1 },
      },
    });
  }

  /** One media message with the given codec bytes. */
  sendMedia(payload: Uint8Array, frameMs = 20): void {
    this.seq += 1;
    this.chunk += 1;
    this.sendJson(this.mediaMessage(payload, this.seq, this.chunk));
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

  close(): Promise<void> {
    for (const m of this.pendingMarks.splice(0)) clearTimeout(m.timer);
    this.decoder?.close();
    return new Promise((resolve) => {
      if (this.ws.readyState === WebSocket.CLOSED) return resolve();
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
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

  private sendJson(obj: unknown): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(obj));
  }
}
