/**
 * An in-memory Brain for tests and offline runs: no network, deterministic. Every reply() is recorded
 * as a call. When the script holds a turn, the call plays it: waits `latencyMs` on the injected timers
 * (0 = the next microtask), delivers its tokens through onToken one microtask apart, then answers
 * `text` (default: the tokens joined) and `transfer` — or stalls, or fails, where the turn says so.
 * With the script empty the call is held: the test drives it step by step (call.token, call.finish,
 * call.fail) and a held call does exactly what it is told, even after an abort (a misbehaving brain).
 * Scripted calls keep the port's promises (tests/integration/brain-contract.test.ts runs the same
 * contract against them and the HTTP client): aborts reject with `brain_aborted` and the text already
 * delivered; a failure carries `partialText` and is retryable only when nothing was delivered.
 */
import { realTimers, type Timers } from '../timers';
import { brainAborted, BrainError, type Brain, type BrainReplyOptions, type BrainRequest, type BrainResult, type BrainTransfer } from './port';

export interface FakeBrainTurn {
  /** Reply text, piece by piece (default: none). */
  tokens?: string[];
  /** The final text (default: the tokens joined). */
  text?: string;
  transfer?: BrainTransfer;
  /** After this many tokens, deliver nothing more and never answer (a stalled stream): only an abort ends it. */
  stallAfterTokens?: number;
  /** After this many tokens, fail with `brain_failed` (the brain reported an error). */
  errorAfterTokens?: number;
}

export interface FakeBrainOptions {
  /** Turns played in order, one per reply(); a function builds the turn from the request. */
  script?: (FakeBrainTurn | ((req: BrainRequest) => FakeBrainTurn))[];
  latencyMs?: number;
  timers?: Timers;
  /** Keep at most this many recorded calls (oldest dropped first); default 1000. */
  maxRecorded?: number;
}

export interface FakeBrainCall {
  req: BrainRequest;
  signal: AbortSignal;
  /** Held calls: delivers a piece of the reply. */
  token(text: string): void;
  /** Held calls: answers (default text: what was delivered). */
  finish(text?: string, transfer?: BrainTransfer): void;
  /** Held calls: fails (default: a non-retryable `brain_failed` with the delivered text). */
  fail(err?: Error): void;
}

export class FakeBrain implements Brain {
  readonly calls: FakeBrainCall[] = [];
  private readonly script: NonNullable<FakeBrainOptions['script']>;
  private readonly timers: Timers;
  private readonly maxRecorded: number;
  private latencyMs: number;

  constructor(opts: FakeBrainOptions = {}) {
    this.script = [...(opts.script ?? [])];
    this.latencyMs = opts.latencyMs ?? 0;
    this.timers = opts.timers ?? realTimers;
    this.maxRecorded = opts.maxRecorded ?? 1000;
  }

  /** The latest call. */
  get last(): FakeBrainCall {
    const c = this.calls.at(-1);
    if (!c) throw new Error('the brain was not called');
    return c;
  }

  /** Appends turns to the script. */
  say(...turns: NonNullable<FakeBrainOptions['script']>): void {
    this.script.push(...turns);
  }

  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  reply(req: BrainRequest, opts: BrainReplyOptions = {}): Promise<BrainResult> {
    if (opts.signal?.aborted) return Promise.reject(brainAborted('', opts.signal.reason));
    const next = this.script.shift();
    const turn = typeof next === 'function' ? next(req) : next;
    return new Promise<BrainResult>((resolve, reject) => {
      const started = this.timers.now();
      let delivered = '';
      let firstTokenMs: number | undefined;
      const signal = opts.signal ?? new AbortController().signal;
      signal.addEventListener('abort', () => reject(brainAborted(delivered, signal.reason)), { once: true });
      const call: FakeBrainCall = {
        req,
        signal,
        token: (text) => {
          if (text === '') return;
          firstTokenMs ??= this.timers.now() - started;
          delivered += text;
          opts.onToken?.(text);
        },
        finish: (text = delivered, transfer) =>
          resolve({ text, streamed: true, source: 'stream', ...(transfer ? { transfer } : {}), ...(firstTokenMs !== undefined ? { firstTokenMs } : {}) }),
        fail: (err = new BrainError('brain_failed', 'brain down', { partialText: delivered })) => reject(err),
      };
      this.calls.push(call);
      if (this.calls.length > this.maxRecorded) this.calls.shift();
      if (turn) void this.play(turn, call, () => delivered, signal);
    });
  }

  close(): void {}

  private async play(turn: FakeBrainTurn, call: FakeBrainCall, delivered: () => string, signal: AbortSignal): Promise<void> {
    if (this.latencyMs > 0) {
      const cancel = await new Promise<() => void>((resolve) => {
        const c = this.timers.after(this.latencyMs, () => resolve(c));
        signal.addEventListener('abort', () => resolve(c), { once: true });
      });
      cancel();
    }
    const tokens = turn.tokens ?? [];
    for (let i = 0; ; i += 1) {
      await Promise.resolve();
      if (signal.aborted || i === turn.stallAfterTokens) return;
      if (i === turn.errorAfterTokens) {
        return call.fail(new BrainError('brain_failed', 'brain stream error: scripted failure', { retryable: true, partialText: delivered() }));
      }
      if (i >= tokens.length) break;
      call.token(tokens[i]!);
    }
    const text = turn.text ?? delivered();
    // A final text extending the tokens: deliver the rest, as the HTTP client does with `done.text`.
    if (text.startsWith(delivered())) call.token(text.slice(delivered().length));
    call.finish(text, turn.transfer);
  }
}
