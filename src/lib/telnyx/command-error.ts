/**
 * Failure of a Call Control command, classified once here so the queue layer only asks `retryable`
 * and `retryAfterMs` and never re-derives policy from HTTP details.
 */
import { AppError } from '../errors';

/** One entry of Telnyx's error body `{"errors":[{code,title,detail}]}`. */
export interface TelnyxApiError {
  code?: string;
  title?: string;
  detail?: string;
}

export type TelnyxCommandErrorCode =
  | 'telnyx_timeout'
  | 'telnyx_network_error'
  | 'telnyx_rate_limited'
  | 'telnyx_server_error'
  | 'telnyx_unauthorized'
  | 'telnyx_rejected'
  /** Refused before sending: not a known action (e.g. a job edited in the admin UI). */
  | 'telnyx_bad_command';

export class TelnyxCommandError extends AppError {
  declare readonly code: TelnyxCommandErrorCode;
  readonly action: string;
  readonly callControlId: string;
  /** HTTP status Telnyx answered with; undefined for timeouts and network errors. */
  readonly httpStatus?: number;
  /** `errors[].code` values from the response body, as strings ("90018", ...). */
  readonly telnyxCodes: readonly string[];
  readonly telnyxErrors: readonly TelnyxApiError[];
  /** Server-requested minimum delay before a retry (Retry-After on 429/503). */
  readonly retryAfterMs?: number;

  constructor(opts: {
    code: TelnyxCommandErrorCode;
    message: string;
    action: string;
    callControlId: string;
    retryable: boolean;
    httpStatus?: number;
    telnyxErrors?: readonly TelnyxApiError[];
    retryAfterMs?: number;
  }) {
    const telnyxErrors = opts.telnyxErrors ?? [];
    const telnyxCodes = telnyxErrors.map((e) => e.code).filter((c): c is string => c !== undefined);
    super(opts.code, opts.message, {
      // If this ever reaches an HTTP response it is an upstream failure, not the client's fault.
      status: opts.code === 'telnyx_timeout' ? 504 : 502,
      retryable: opts.retryable,
      details: { action: opts.action, callControlId: opts.callControlId, httpStatus: opts.httpStatus, telnyxCodes },
    });
    this.action = opts.action;
    this.callControlId = opts.callControlId;
    this.httpStatus = opts.httpStatus;
    this.telnyxErrors = telnyxErrors;
    this.telnyxCodes = telnyxCodes;
    this.retryAfterMs = opts.retryAfterMs;
  }
}

/** Retry policy by HTTP status: throttling, request timeout and server errors may heal; other 4xx never will. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

export function codeForStatus(status: number): TelnyxCommandErrorCode {
  if (status === 429) return 'telnyx_rate_limited';
  if (status === 401 || status === 403) return 'telnyx_unauthorized';
  if (status === 408) return 'telnyx_timeout';
  return status >= 500 ? 'telnyx_server_error' : 'telnyx_rejected';
}

/** Reads `{"errors":[...]}` defensively: proxies and load balancers answer with HTML or nothing. */
export function parseTelnyxErrors(body: unknown): TelnyxApiError[] {
  const errors = (body as { errors?: unknown } | null | undefined)?.errors;
  if (!Array.isArray(errors)) return [];
  return errors
    .filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null)
    .map((e) => ({
      code: e.code === undefined || e.code === null ? undefined : String(e.code),
      title: typeof e.title === 'string' ? e.title : undefined,
      detail: typeof e.detail === 'string' ? e.detail : undefined,
    }));
}
