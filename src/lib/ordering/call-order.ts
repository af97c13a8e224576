import type { Redis } from 'ioredis';
import { numberOfKeys, readLua } from '../lua';
import type { OrderScope, StateKeys } from '../state-keys';
import { realTimers, type Timers } from '../timers';

const SCRIPTS = {
  eventAdmit: 'event-admit-2.lua',
  sequenceNext: 'sequence-next-1.lua',
  sequenceAdvance: 'sequence-advance-1.lua',
} as const;

/** Takes a variable number of keys (two per event): ioredis gets the key count as the first argument. */
const EVENT_ADMIT_BATCH = 'event-admit-batch-n.lua';

type OrderRedis = Redis & {
  eventAdmit(dedupeKey: string, seqKey: string, dedupeTtl: number, seqTtl: number): Promise<number>;
  eventAdmitBatch(numKeys: number, ...keysThenArgs: (string | number)[]): Promise<number[]>;
  sequenceNext(seqKey: string, ttl: number): Promise<number>;
  sequenceAdvance(doneKey: string, seq: number, ttl: number): Promise<number>;
};

export interface CallOrderOptions {
  /** How long an admitted event id is remembered for dedupe (Telnyx redelivers for up to ~1 day). */
  dedupeTtlSec: number;
  /** Lifetime of per-call counters; longer than the longest call. */
  counterTtlSec: number;
  /** The clock of the bounded wait and its backoff timers; default realTimers. */
  timers?: Timers;
}

/**
 * Per-call ordering on top of BullMQ (which has no per-key FIFO in its open-source edition):
 * every event/command of a call gets a sequence number when it is admitted; a worker that picks
 * up number n waits until n-1 is done. Waiting is rare (only when two jobs of ONE call are picked
 * up at once, possibly by two instances) and bounded: after `maxWaitMs` the job runs anyway so a
 * lost predecessor (a crash between admit and enqueue) can never stall a call forever.
 */
export class CallOrder {
  private readonly redis: OrderRedis;
  private readonly timers: Timers;

  constructor(
    redis: Redis,
    private readonly keys: StateKeys,
    private readonly opts: CallOrderOptions,
  ) {
    for (const [name, file] of Object.entries(SCRIPTS)) {
      if (!(name in redis)) redis.defineCommand(name, { numberOfKeys: numberOfKeys(file), lua: readLua(__dirname, file) });
    }
    if (!('eventAdmitBatch' in redis)) redis.defineCommand('eventAdmitBatch', { lua: readLua(__dirname, EVENT_ADMIT_BATCH) });
    this.redis = redis as OrderRedis;
    this.timers = opts.timers ?? realTimers;
  }

  /** Returns 0 for a duplicate event id, else the event's place in the call's order. */
  admitEvent(eventId: string, callId: string): Promise<number> {
    return this.redis.eventAdmit(this.keys.eventSeen(eventId), this.keys.seq('ev', callId), this.opts.dedupeTtlSec, this.opts.counterTtlSec);
  }

  /**
   * admitEvent for many events in one Redis command (one script run), in the given order: per call,
   * sequence numbers follow that order. Each entry is its number (0 = duplicate) or the error of that
   * one admit (nothing of it is kept); a failed command rejects.
   */
  async admitEvents(events: readonly { eventId: string; callId: string }[]): Promise<(number | Error)[]> {
    if (events.length === 0) return [];
    const args: (string | number)[] = new Array<string | number>(events.length * 2 + 2);
    let i = 0;
    for (const e of events) {
      args[i++] = this.keys.eventSeen(e.eventId);
      args[i++] = this.keys.seq('ev', e.callId);
    }
    args[i++] = this.opts.dedupeTtlSec;
    args[i] = this.opts.counterTtlSec;
    const seqs = await this.redis.eventAdmitBatch(events.length * 2, ...args);
    if (!Array.isArray(seqs) || seqs.length !== events.length) throw new Error('event admit returned an unexpected reply');
    return seqs.map((v) => (v === -1 ? new Error('the call\'s event counter could not be advanced') : Number(v)));
  }

  /** forgetEvent for many ids in one round trip. */
  async forgetEvents(eventIds: readonly string[]): Promise<void> {
    if (eventIds.length === 0) return;
    const p = this.redis.pipeline();
    for (const id of eventIds) p.del(this.keys.eventSeen(id));
    await p.exec();
  }

  /** Forgets an admitted event id (used when persisting it failed, so the redelivery is accepted). */
  async forgetEvent(eventId: string): Promise<void> {
    await this.redis.del(this.keys.eventSeen(eventId));
  }

  next(scope: OrderScope, callId: string): Promise<number> {
    return this.redis.sequenceNext(this.keys.seq(scope, callId), this.opts.counterTtlSec);
  }

  /** Resolves when `seq` may run: true when its predecessor finished, false when the wait timed out. */
  async waitTurn(scope: OrderScope, callId: string, seq: number, maxWaitMs: number): Promise<boolean> {
    if (seq <= 1) return true;
    const key = this.keys.done(scope, callId);
    // Monotonic: a wall-clock step (NTP) neither cuts the wait short nor stretches it.
    const deadline = this.timers.now() + maxWaitMs;
    // Backoff 2 ms → 50 ms: a predecessor usually finishes within a few ms.
    for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
      const done = Number((await this.redis.get(key)) ?? 0);
      if (done >= seq - 1) return true;
      if (this.timers.now() >= deadline) return false;
      await new Promise<void>((resolve) => this.timers.after(delay, resolve));
    }
  }

  complete(scope: OrderScope, callId: string, seq: number): Promise<number> {
    return this.redis.sequenceAdvance(this.keys.done(scope, callId), seq, this.opts.counterTtlSec);
  }
}
