/**
 * Incremental Server-Sent Events parser (WHATWG "event stream interpretation") plus the decoding of
 * the brain's events (docs/design.md §Contracts: `token` {"t"}, `done` {text?, transfer?}, `error` {message},
 * `ping`/`meta` ignored).
 *
 * Chunks may split anywhere, including inside a UTF-8 character or between the CR and LF of a CRLF.
 * Lines end with LF, CR or CRLF; `:` lines are comments; several `data:` lines join with "\n"; one
 * space after the colon is stripped; a blank line dispatches. Leniencies (real brains are sloppy):
 * an event with an `event:` field but no data is still dispatched (e.g. a bare `event: done`), and
 * end() treats an unterminated last line/event as complete (called only on a clean end of the body).
 */
import { StringDecoder } from 'node:string_decoder';
import type { BrainTransfer } from './port';
import { parseTransfer } from './wire';

export interface SseEvent {
  /** `event:` field, default "message". */
  event: string;
  data: string;
  id?: string;
}

export interface SseHandlers {
  onEvent(event: SseEvent): void;
  /** Comment lines (text after the colon); useful as keep-alive. */
  onComment?(text: string): void;
}

export class SseParser {
  private readonly decoder = new StringDecoder('utf8');
  private readonly maxLineChars: number;
  private pending = '';
  private skipLf = false;
  private started = false;
  private eventType = '';
  private data: string[] = [];
  private dataChars = 0;
  private lastId: string | undefined;

  constructor(
    private readonly handlers: SseHandlers,
    /** Longest line and longest event data accepted; a runaway stream throws instead of eating memory. */
    opts: { maxLineChars?: number } = {},
  ) {
    this.maxLineChars = opts.maxLineChars ?? 1024 * 1024;
  }

  push(chunk: Buffer | string): void {
    this.feed(typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
  }

  /** End of stream: flushes a partial last line and dispatches a pending event. */
  end(): void {
    this.feed(this.decoder.end());
    if (this.pending !== '') {
      const line = this.pending;
      this.pending = '';
      this.line(line);
    }
    this.dispatch();
  }

  private feed(text: string): void {
    if (text === '') return;
    let i = 0;
    if (!this.started) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) i = 1;
    }
    if (this.skipLf) {
      this.skipLf = false;
      if (text[i] === '\n') i += 1;
    }
    let lineStart = i;
    for (; i < text.length; i += 1) {
      const ch = text[i];
      if (ch !== '\n' && ch !== '\r') continue;
      const line = this.pending + text.slice(lineStart, i);
      this.pending = '';
      if (ch === '\r') {
        if (i + 1 < text.length) {
          if (text[i + 1] === '\n') i += 1;
        } else {
          this.skipLf = true;
        }
      }
      lineStart = i + 1;
      this.line(line);
    }
    this.pending += text.slice(lineStart);
    if (this.pending.length > this.maxLineChars) throw new Error(`SSE line longer than ${this.maxLineChars} characters`);
  }

  private line(line: string): void {
    if (line === '') return this.dispatch();
    if (line[0] === ':') {
      this.handlers.onComment?.(line.slice(1));
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value[0] === ' ') value = value.slice(1);
    if (field === 'event') this.eventType = value;
    else if (field === 'data') {
      this.dataChars += value.length + 1;
      if (this.dataChars > this.maxLineChars) throw new Error(`SSE event data longer than ${this.maxLineChars} characters`);
      this.data.push(value);
    } else if (field === 'id' && !value.includes('\0')) this.lastId = value;
    // `retry` and unknown fields are ignored.
  }

  private dispatch(): void {
    const hasData = this.data.length > 0;
    const type = this.eventType;
    const data = this.data.join('\n');
    this.eventType = '';
    this.data = [];
    this.dataChars = 0;
    if (!hasData && type === '') return;
    this.handlers.onEvent({ event: type || 'message', data, ...(this.lastId !== undefined ? { id: this.lastId } : {}) });
  }
}

export type BrainStreamEvent =
  | { type: 'token'; text: string }
  | { type: 'done'; text?: string; transfer?: BrainTransfer }
  | { type: 'error'; message: string }
  | { type: 'ignored'; event: string };

function tryJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

const field = (o: unknown, ...keys: string[]): string | undefined => {
  if (!o || typeof o !== 'object') return undefined;
  for (const k of keys) {
    const v = (o as Record<string, unknown>)[k];
    if (typeof v === 'string') return v;
  }
  return undefined;
};

/**
 * SSE event → brain event. `token`: `{"t"}` (also `{"token"}`/`{"text"}`, a JSON string, or raw
 * non-JSON data); `done`: `{text?, transfer?}` (empty/non-JSON data → no text); `error`:
 * `{message}` or raw data. Everything else (`ping`, `meta`, unnamed messages…) is ignored.
 */
export function decodeBrainEvent(e: SseEvent): BrainStreamEvent {
  const json = e.data.trim() === '' ? undefined : tryJson(e.data);
  switch (e.event) {
    case 'token': {
      const text = typeof json === 'string' ? json : (field(json, 't', 'token', 'text') ?? (json === undefined ? e.data : ''));
      return { type: 'token', text };
    }
    case 'done': {
      const text = field(json, 'text');
      const transfer = parseTransfer(json && typeof json === 'object' ? (json as Record<string, unknown>).transfer : undefined);
      return { type: 'done', ...(text !== undefined ? { text } : {}), ...(transfer ? { transfer } : {}) };
    }
    case 'error':
      return { type: 'error', message: field(json, 'message', 'error') ?? (e.data.trim() || 'brain stream error') };
    default:
      return { type: 'ignored', event: e.event };
  }
}
