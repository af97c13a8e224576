/**
 * The brain port (docs/design.md §Contracts, the brain): what the conversation asks of whatever answers
 * the caller. Implementations: the HTTP/SSE client (brain-client.ts, BRAIN_URL), the built-in local
 * brain (local-brain.ts, no BRAIN_URL) and the scripted in-memory one for tests (fake-brain.ts); the
 * composition root picks. The HTTP client and the fake keep the same promises
 * (tests/integration/brain-contract.test.ts runs one contract against both). `quickReplies` is
 * runtime-only (the local brain reads it) and is never sent to a remote brain (wire.ts).
 *
 * Streaming API (one shape for the remote client and the local brain): `reply(req, {signal, onToken})`.
 * `onToken` receives the reply text in order, piece by piece, before the promise resolves — SSE tokens,
 * the whole `/reply` text as one piece after a fallback, or sentence chunks from the local brain — so
 * the pipeline feeds a Segmenter the same way in every case. Cancellation: abort `signal` (barge-in,
 * hangup) → the HTTP request is destroyed and the promise rejects with `brain_aborted`.
 */
import { AppError } from '../errors';

export interface BrainHistoryEntry {
  /** `system`: a note from the runtime to the brain, e.g. that a transfer it asked for was refused. */
  role: 'user' | 'assistant' | 'system';
  content: string;
  /** Epoch milliseconds. */
  timestamp: number;
}

export interface BrainTransfer {
  /** Destination: E.164 number or SIP URI. */
  to: string;
  /** Audio to play to the caller while transferring. */
  audioUrl?: string;
  timeoutSecs?: number;
}

export interface QuickReply {
  match: string[];
  reply: string;
}

export interface BrainRequest {
  tenantId: string;
  callControlId: string;
  transcript: string;
  history: BrainHistoryEntry[];
  assistantContext?: Record<string, unknown>;
  transferProfiles?: unknown[];
  /** Tenant quick replies for the local brain; never sent over the wire. */
  quickReplies?: QuickReply[];
}

export interface BrainReply {
  text: string;
  transfer?: BrainTransfer;
}

export interface BrainReplyOptions {
  /** Barge-in / hangup: aborts the HTTP request at once; the promise rejects with `brain_aborted`. */
  signal?: AbortSignal;
  /** Called with each piece of the reply text, in order, as soon as it is known. */
  onToken?: (token: string) => void;
}

export type BrainSource = 'stream' | 'reply' | 'local';

export interface BrainResult extends BrainReply {
  /** True when the text came over the SSE stream endpoint. */
  streamed: boolean;
  /** Where the answer came from: SSE stream, `POST /reply` (direct or fallback), or the local brain. */
  source: BrainSource;
  /** From the call of reply() to the first onToken call. */
  firstTokenMs?: number;
}

export interface Brain {
  reply(req: BrainRequest, opts?: BrainReplyOptions): Promise<BrainResult>;
  /** Releases keep-alive sockets the brain owns. */
  close(): void;
}

export type BrainErrorCode = 'brain_failed' | 'brain_timeout' | 'brain_aborted';

/**
 * Every brain failure. `partialText` is the text already delivered through onToken (possibly spoken)
 * before the failure: the caller keeps it (history) and must not ask again for the same turn, which
 * would repeat it. `retryable` is true only when the failure is transient AND nothing was delivered.
 */
export class BrainError extends AppError {
  readonly partialText: string;

  constructor(
    code: BrainErrorCode,
    message: string,
    opts: { partialText?: string; retryable?: boolean; status?: number; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    const partialText = opts.partialText ?? '';
    const status = opts.status ?? (code === 'brain_aborted' ? 499 : code === 'brain_timeout' ? 504 : 502);
    super(code, message, {
      status,
      retryable: (opts.retryable ?? false) && partialText === '',
      cause: opts.cause,
      details: { ...opts.details, ...(partialText ? { partialChars: partialText.length } : {}) },
    });
    this.partialText = partialText;
  }
}

export const brainAborted = (partialText = '', cause?: unknown) =>
  new BrainError('brain_aborted', 'brain request aborted by the caller', { partialText, cause });
