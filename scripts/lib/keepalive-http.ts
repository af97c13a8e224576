/**
 * A lean HTTP/1.1 client for the load generator: one keep-alive connection, one request in flight at a
 * time, requests written as one buffer, answers framed by Content-Length (or chunked, or the close).
 * Node's http.request costs the load generator ~250 µs of CPU per request, as much as the runtime it
 * measures spends on a webhook; on a shared 2-core machine that CPU is taken from the runtime. This one
 * costs a fraction of that, so the offered rate measures the runtime and not the generator.
 *
 * Only what a load generator needs: plain http, POST with a body, status + the first bytes of the body
 * back. A server that closes the connection (Connection: close, an error) is reconnected on the next
 * request; a request in flight when it closes fails with the socket's error (the generator counts it).
 */
import net from 'node:net';

export interface KeepAliveResponse {
  status: number;
  /** The first `keepBodyBytes` bytes of the body (enough for an error message). */
  body: Buffer;
}

export interface KeepAliveConnectionOptions {
  host: string;
  port: number;
  /** Per-request deadline; the connection is dropped when it passes. */
  timeoutMs: number;
  keepBodyBytes?: number;
}

const CRLF2 = Buffer.from('\r\n\r\n');
const MAX_HEAD = 16 * 1024;

class TimeoutError extends Error {
  readonly code = 'timeout';
}

interface Pending {
  resolve(r: KeepAliveResponse): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class KeepAliveConnection {
  private socket: net.Socket | undefined;
  private pending: Pending | undefined;
  private buf: Buffer = Buffer.alloc(0);
  /** Body framing of the answer being read, once its head is parsed. */
  private head: { status: number; length: number | 'chunked' | 'close'; close: boolean; start: number } | undefined;
  private readonly keep: number;

  constructor(private readonly opts: KeepAliveConnectionOptions) {
    this.keep = opts.keepBodyBytes ?? 512;
  }

  /** Sends `head` (request line + headers, ending in CRLF CRLF) and `body`; resolves with the answer. */
  request(head: string, body: Buffer): Promise<KeepAliveResponse> {
    if (this.pending) return Promise.reject(new Error('a request is already in flight on this connection'));
    return new Promise<KeepAliveResponse>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new TimeoutError(`no response within ${this.opts.timeoutMs} ms`)), this.opts.timeoutMs);
      this.pending = { resolve, reject, timer };
      const socket = this.socket ?? this.connect();
      const h = Buffer.from(head, 'latin1');
      socket.write(Buffer.concat([h, body], h.length + body.length));
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private connect(): net.Socket {
    const socket = net.connect({ host: this.opts.host, port: this.opts.port, noDelay: true });
    this.socket = socket;
    this.buf = Buffer.alloc(0);
    this.head = undefined;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      // An answer framed by the close ends here; anything else in flight is lost.
      if (this.head?.length === 'close') this.finish(this.buf.length);
      else this.fail(Object.assign(new Error('socket closed before the response ended'), { code: 'ECONNRESET' }));
    });
    return socket;
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    if (!this.head) {
      const end = this.buf.indexOf(CRLF2);
      if (end < 0) {
        if (this.buf.length > MAX_HEAD) this.fail(new Error('response head too large'));
        return;
      }
      this.head = parseHead(this.buf.toString('latin1', 0, end), end + 4);
      if (!this.head) {
        this.fail(new Error('malformed response head'));
        return;
      }
    }
    const { length, start } = this.head;
    if (typeof length === 'number') {
      if (this.buf.length - start >= length) this.finish(start + length);
    } else if (length === 'chunked') {
      const end = chunkedEnd(this.buf, start);
      if (end >= 0) this.finish(end);
    }
  }

  /** The answer is complete at `end` bytes into the buffer. */
  private finish(end: number): void {
    const head = this.head!;
    const p = this.pending;
    const raw = head.length === 'chunked' ? dechunk(this.buf, head.start) : this.buf.subarray(head.start, end);
    const body = Buffer.from(raw.subarray(0, this.keep));
    this.buf = this.buf.subarray(end);
    this.head = undefined;
    if (head.close) this.close();
    if (!p) return;
    this.pending = undefined;
    clearTimeout(p.timer);
    p.resolve({ status: head.status, body });
  }

  private fail(err: Error): void {
    const p = this.pending;
    this.pending = undefined;
    this.close();
    if (!p) return;
    clearTimeout(p.timer);
    p.reject(err);
  }
}

function parseHead(text: string, start: number): { status: number; length: number | 'chunked' | 'close'; close: boolean; start: number } | undefined {
  const lines = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  if (!m) return undefined;
  let length: number | 'chunked' | 'close' = 'close';
  let close = lines[0]!.startsWith('HTTP/1.0');
  for (let i = 1; i < lines.length; i += 1) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim().toLowerCase();
    if (name === 'content-length' && length !== 'chunked') length = Number(value);
    else if (name === 'transfer-encoding' && value.includes('chunked')) length = 'chunked';
    else if (name === 'connection') close = value.includes('close');
  }
  const status = Number(m[1]);
  // Answers without a body by definition.
  if (status === 204 || status === 304 || (status >= 100 && status < 200)) length = 0;
  if (typeof length === 'number' && !Number.isFinite(length)) return undefined;
  return { status, length, close, start };
}

/** Offset just past a complete chunked body starting at `from`, or -1 while it is incomplete. */
function chunkedEnd(buf: Buffer, from: number): number {
  let i = from;
  for (;;) {
    const eol = buf.indexOf('\r\n', i);
    if (eol < 0) return -1;
    const size = parseInt(buf.toString('latin1', i, eol).split(';')[0]!, 16);
    if (!Number.isFinite(size)) return -1;
    if (size === 0) {
      // Trailers (none expected) end with an empty line.
      const end = buf.indexOf(CRLF2, eol);
      return end < 0 ? -1 : end + 4;
    }
    const next = eol + 2 + size + 2;
    if (buf.length < next) return -1;
    i = next;
  }
}

/** The data of a complete chunked body starting at `from` (chunkedEnd said it is complete). */
function dechunk(buf: Buffer, from: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = from; ; ) {
    const eol = buf.indexOf('\r\n', i);
    const size = parseInt(buf.toString('latin1', i, eol).split(';')[0]!, 16);
    if (!(size > 0)) return Buffer.concat(parts);
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    i = eol + 2 + size + 2;
  }
}
