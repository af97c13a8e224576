import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths pino censors wherever they appear in a log object. Covers our own field names, HTTP headers
 * that carry credentials, and config keys, so a logged request, error or config never leaks a secret.
 */
export const REDACT_PATHS = [
  'apiKey',
  'token',
  'secret',
  'password',
  'authorization',
  '*.apiKey',
  '*.token',
  '*.secret',
  '*.password',
  '*.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["telnyx-signature-ed25519"]',
  'req.headers["telnyx-signature"]',
  'req.headers["x-telnyx-streaming-auth-token"]',
  'req.query.token',
  'headers.authorization',
  'headers.Authorization',
  'config.headers.Authorization',
  '*.TELNYX_API_KEY',
  '*.TELNYX_WEBHOOK_SECRET',
  '*.MEDIA_STREAM_TOKEN',
  '*.ADMIN_PASSWORD',
  '*.METRICS_TOKEN',
  'TELNYX_API_KEY',
  'TELNYX_WEBHOOK_SECRET',
  'MEDIA_STREAM_TOKEN',
  'ADMIN_PASSWORD',
  'METRICS_TOKEN',
  'stream_url',
  '*.stream_url',
  '*.stream_auth_token',
];

/** Strips the token query parameter from a URL so it can be logged. */
export function redactUrl(raw: string): string {
  return raw.replace(/([?&](?:token|auth|key)=)[^&#]*/gi, '$1[Redacted]');
}

export function createLogger(opts: { level: string; destination?: DestinationStream; base?: Record<string, unknown> }): Logger {
  return pino(
    {
      level: opts.level,
      base: { pid: process.pid, ...opts.base },
      redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    opts.destination,
  );
}
