/**
 * Errors carry their own HTTP status, a stable machine code and whether a retry can help.
 * HTTP maps them in exactly one place (api/error-handler.ts); job processors turn
 * non-retryable ones into BullMQ UnrecoverableError.
 */
export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly retryable: boolean;
  readonly details?: Record<string, unknown>;

  constructor(
    code: string,
    message: string,
    opts: { status?: number; retryable?: boolean; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = opts.status ?? 500;
    this.retryable = opts.retryable ?? false;
    this.details = opts.details;
  }
}

export const badRequest = (code: string, message: string) => new AppError(code, message, { status: 400 });
export const unauthorized = (code: string, message: string) => new AppError(code, message, { status: 401 });
export const notFound = (message = 'not found') => new AppError('not_found', message, { status: 404 });

export function isRetryable(err: unknown): boolean {
  return err instanceof AppError ? err.retryable : false;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
