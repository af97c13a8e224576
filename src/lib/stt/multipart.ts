/**
 * Minimal multipart/form-data (RFC 7578) encoder for the OpenAI-style transcription upload. Built by
 * hand into one Buffer so the request has a Content-Length (some Whisper servers reject chunked
 * uploads) and nothing depends on how an HTTP library serialises FormData objects.
 */
import { randomBytes } from 'node:crypto';

export type MultipartField =
  | { name: string; value: string }
  | { name: string; filename: string; contentType: string; data: Buffer };

export interface Multipart {
  body: Buffer;
  /** `multipart/form-data; boundary=…` */
  contentType: string;
}

/** Quotes in names become %22 and line breaks %0D%0A, as browsers do (WHATWG HTML form encoding). */
export function escapeHeaderParam(s: string): string {
  return s.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function encode(fields: readonly MultipartField[], boundary: string): Buffer {
  const parts: Buffer[] = [];
  for (const f of fields) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${escapeHeaderParam(f.name)}"`;
    if ('data' in f) {
      head += `; filename="${escapeHeaderParam(f.filename)}"\r\nContent-Type: ${f.contentType.replace(/[\r\n]/g, '')}`;
    }
    parts.push(Buffer.from(`${head}\r\n\r\n`, 'utf8'));
    parts.push('data' in f ? f.data : Buffer.from(f.value, 'utf8'));
    parts.push(Buffer.from('\r\n', 'latin1'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`, 'latin1'));
  return Buffer.concat(parts);
}

export function buildMultipart(fields: readonly MultipartField[], boundary?: string): Multipart {
  if (boundary !== undefined) {
    if (!/^[0-9A-Za-z'()+_,\-./:=?]{1,70}$/.test(boundary)) throw new Error('invalid multipart boundary');
    return { body: encode(fields, boundary), contentType: `multipart/form-data; boundary=${boundary}` };
  }
  // A random 192-bit boundary practically never occurs in the payload; check anyway and redraw.
  for (;;) {
    const b = `----veralux-stt-${randomBytes(24).toString('hex')}`;
    const clash = fields.some((f) => ('data' in f ? f.data.includes(b) : f.value.includes(b)));
    if (!clash) return { body: encode(fields, b), contentType: `multipart/form-data; boundary=${b}` };
  }
}
