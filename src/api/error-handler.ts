import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError } from '../lib/errors';

/** JSON body of every error response. */
export interface ErrorBody {
  error: string;
  message: string;
}

/** The ONE place that maps errors to HTTP status codes. */
export function toHttpError(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof AppError) return { status: err.status, body: { error: err.code, message: err.message } };
  const e = err as { type?: string; status?: number; statusCode?: number; message?: string };
  // body-parser / raw-body errors carry a `type`.
  switch (e?.type) {
    case 'entity.too.large':
      return { status: 413, body: { error: 'payload_too_large', message: 'request body exceeds the size limit' } };
    case 'entity.parse.failed':
      return { status: 400, body: { error: 'invalid_json', message: 'request body is not valid JSON' } };
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return { status: 415, body: { error: 'unsupported_encoding', message: e.message ?? 'unsupported encoding' } };
    case 'request.aborted':
      return { status: 400, body: { error: 'request_aborted', message: 'request aborted by the client' } };
    default:
  }
  const status = e?.status ?? e?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, body: { error: 'bad_request', message: e.message ?? 'bad request' } };
  }
  return { status: 500, body: { error: 'internal_error', message: 'internal server error' } };
}

export const notFoundHandler: RequestHandler = (req, res) => {
  res.status(404).json({ error: 'not_found', message: `no route for ${req.method} ${req.path}` } satisfies ErrorBody);
};

export const errorHandler: ErrorRequestHandler = (err, req, res, next) => {
  if (res.headersSent) return next(err);
  const { status, body } = toHttpError(err);
  if (status >= 500) req.log?.error({ err }, 'request failed');
  else req.log?.info({ status, error: body.error }, 'request rejected');
  res.status(status).json(body);
};
