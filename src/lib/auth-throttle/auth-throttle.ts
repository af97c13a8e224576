/**
 * Failed-login throttle per client, kept in Redis so it holds across instances and restarts.
 * A client whose failures in the window reached the limit is refused before its credentials are
 * even looked at, so a guesser cannot tell a right password from a wrong one while blocked.
 * A success resets nothing: otherwise a guesser sharing an IP with a logged-in admin (whose board
 * polls every few seconds) would get a fresh budget on every poll.
 */
import type { Redis } from 'ioredis';
import { numberOfKeys, readLua } from '../lua';

/**
 * 5 failures per minute per client: more than a person mistyping a password needs, and it cuts a
 * guesser from thousands of tries a second to 7,200 a day.
 */
export const AUTH_MAX_FAILURES = 5;
export const AUTH_WINDOW_MS = 60_000;
/** IPv6 text is at most 45 chars; anything longer is cut so a key never grows with its input. */
const MAX_CLIENT_CHARS = 64;

const SCRIPT = 'auth-failures-1.lua';
let source: string | undefined;

interface AuthFailuresCommand {
  authFailures(key: string, increment: number, windowMs: number): Promise<[number, number]>;
}

export type ThrottleVerdict = { blocked: false } | { blocked: true; retryAfterSec: number };

export interface AuthThrottleOptions {
  /** Key prefix (STATE_PREFIX); the keys are `<prefix>:auth-failures:<scope>:<client>`. */
  prefix: string;
  /** What is guarded, so two guarded surfaces do not share counts. */
  scope: string;
  maxFailures?: number;
  windowMs?: number;
}

export class AuthThrottle {
  private readonly redis: AuthFailuresCommand;
  private readonly maxFailures: number;
  private readonly windowMs: number;

  constructor(
    redis: Redis,
    private readonly opts: AuthThrottleOptions,
  ) {
    // __dirname works from src/ (ts) and dist/ (the build copies *.lua next to the js).
    source ??= readLua(__dirname, SCRIPT);
    redis.defineCommand('authFailures', { lua: source, numberOfKeys: numberOfKeys(SCRIPT) });
    this.redis = redis as unknown as AuthFailuresCommand;
    this.maxFailures = opts.maxFailures ?? AUTH_MAX_FAILURES;
    this.windowMs = opts.windowMs ?? AUTH_WINDOW_MS;
  }

  /** Whether this client may try at all right now. */
  async check(client: string): Promise<ThrottleVerdict> {
    return this.verdict(await this.redis.authFailures(this.key(client), 0, this.windowMs));
  }

  /** Counts a failed attempt; the verdict says whether the next one is refused. */
  async recordFailure(client: string): Promise<ThrottleVerdict> {
    return this.verdict(await this.redis.authFailures(this.key(client), 1, this.windowMs));
  }

  private verdict([count, ttlMs]: [number, number]): ThrottleVerdict {
    if (count < this.maxFailures) return { blocked: false };
    return { blocked: true, retryAfterSec: Math.max(1, Math.ceil(ttlMs / 1000)) };
  }

  private key(client: string): string {
    return `${this.opts.prefix}:auth-failures:${this.opts.scope}:${client.slice(0, MAX_CLIENT_CHARS)}`;
  }
}
