/** A Call Control command as persisted on the `call-control` queue. */
export interface CommandJobData {
  callControlId: string;
  action: string;
  /** Request body; always carries the `command_id` reused on every retry (Telnyx dedupes on it). */
  body: Record<string, unknown> & { command_id: string };
  /** Position in the call's command order. */
  seq: number;
  /** ms epoch when the command was issued (latency metrics). */
  issuedAt: number;
}

/** Attempts per command: 1 + 5 retries with 200 ms → 3.2 s backoff ≈ 6 s worst case before giving up. */
export const COMMAND_ATTEMPTS = 6;
export const COMMAND_BACKOFF_BASE_MS = 200;
export const COMMAND_BACKOFF_MAX_MS = 10_000;
/** A command waits at most this long for its predecessor (longer than a predecessor's retry budget). */
export const COMMAND_ORDER_MAX_WAIT_MS = 20_000;
export const COMMAND_BACKOFF_TYPE = 'telnyx';
