/**
 * A sliding-window rate limit shared by every instance (one Redis zset per subject, one atomic
 * Lua script per hit). Subjects are caller-chosen strings (a client IP, …); the key is
 * `${prefix}:${subject}`.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { AppError, errorMessage } from '../errors';
import { numberOfKeys, readLua } from '../lua';

export type RateLimitResult = { ok: true; remaining: number } | { ok: false; retryAfterMs: number };

export interface RateLimiterOptions {
  redis: Redis;
  /** Key prefix; Redis Cluster deployments give it a hash tag like the capacity keys. */
  prefix: string;
  /** Hits allowed per window (> 0). */
  limit: number;
  windowMs: number;
}

const SCRIPT = 'rate-limit-hit-1.lua';
let source: string | undefined;

interface RateLimitCommands {
  rateLimitHit(key: string, limit: number, windowMs: number, hitId: string): Promise<[number, number]>;
}

export class RateLimiter {
  private readonly cmd: RateLimitCommands;

  constructor(private readonly opts: RateLimiterOptions) {
    for (const [name, v] of [['limit', opts.limit], ['windowMs', opts.windowMs]] as const) {
      if (!Number.isSafeInteger(v) || v <= 0) throw new AppError('rate_limit_invalid_argument', `${name} must be an integer > 0, got ${v}`);
    }
    // __dirname works from src/ (ts) and dist/ (the build copies *.lua next to the js).
    source ??= readLua(__dirname, SCRIPT);
    opts.redis.defineCommand('rateLimitHit', { lua: source, numberOfKeys: numberOfKeys(SCRIPT) });
    this.cmd = opts.redis as unknown as RateLimitCommands;
  }

  key(subject: string): string {
    return `${this.opts.prefix}:${subject}`;
  }

  /** Counts a hit for `subject` if the window has room. Redis failures throw a retryable 503 AppError. */
  async hit(subject: string): Promise<RateLimitResult> {
    let r: [number, number];
    try {
      r = await this.cmd.rateLimitHit(this.key(subject), this.opts.limit, this.opts.windowMs, randomUUID());
    } catch (err) {
      throw new AppError('rate_limit_error', `rate limit check failed: ${errorMessage(err)}`, { status: 503, retryable: true, cause: err });
    }
    return r[0] === 1 ? { ok: true, remaining: r[1] } : { ok: false, retryAfterMs: r[1] };
  }
}
