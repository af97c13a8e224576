/**
 * A Telnyx media-stream client: connects to a runtime's stream_url like Telnyx does and sends the
 * real wire format (connected, start, media with string sequence numbers, dtmf, stop). Records
 * what the runtime sends back (media, mark, clear) for playback tests.
 */
import WebSocket from 'ws';

export interface FakeMediaClientOptions {
  url: string;
  headers?: Record<string, string>;
  callControlId: string;
  encoding: string;
  sampleRate: number;
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

  private constructor(
    readonly ws: WebSocket,
    private readonly opts: FakeMediaClientOptions,
  ) {
    ws.on('message', (data) => {
      try {
        const raw = JSON.parse(data.toString()) as Record<string, unknown>;
        this.received.push({ event: String(raw.event), raw, at: performance.now() });
      } catch {
        this.received.push({ event: 'invalid', raw: {}, at: performance.now() });
      }
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
