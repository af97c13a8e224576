/**
 * The one outbound audio clock for every call in the process (the discord.js voice model): a
 * single drift-corrected 20 ms ticker that each active playout attaches to while it has audio to
 * send or marks to wait for. Tick n is due at start + n × period, computed from the start
 * timestamp, so setTimeout error never accumulates. A tick that fires late runs once (not once per
 * missed period): listeners pace on time, not on tick counts, so one call catches up on everything
 * that is due, and each listener bounds its own burst (StreamPlayout: maxAheadMs).
 *
 * It arms one one-shot timer per tick (Timers.after) aimed at the grid, never a repeating timer whose
 * error would add up. The timer runs only while someone is attached, and is unref'd (realTimers): it
 * never keeps the process alive.
 */
import type { Logger } from '../../lib/logger';
import { type CancelTimer, realTimers, type Timers } from '../../lib/timers';

/** RTP packetization: Telnyx plays and sends 20 ms frames (docs/design.md §Telnyx). */
export const PLAYOUT_PERIOD_MS = 20;

export interface TickListener {
  /** `lagMs`: how late this tick fired after its due time (0 when punctual). */
  onTick(now: number, lagMs: number): void;
}

/**
 * What a playout needs from the clock: time (the ticker's Timers.now), and a slot on the shared
 * ticker. A listener API, not a second timer abstraction: timers are armed through Timers.
 */
export interface PlayoutClock {
  now(): number;
  /** Idempotent. The first attach starts the ticker. */
  attach(listener: TickListener): void;
  /** Idempotent. The last detach stops the ticker. */
  detach(listener: TickListener): void;
}

export interface SchedulerStats {
  ticks: number;
  /** Ticks that fired at least one whole period after their due time (event-loop stalls). */
  lateTicks: number;
  /** Periods skipped by those late ticks (caught up in one call each). */
  skippedTicks: number;
  maxLagMs: number;
}

export class PlayoutScheduler implements PlayoutClock {
  readonly stats: SchedulerStats = { ticks: 0, lateTicks: 0, skippedTicks: 0, maxLagMs: 0 };
  private readonly listeners = new Set<TickListener>();
  private cancel: CancelTimer | undefined = undefined;
  private startAt = 0;
  /** Index of the next due tick, counted from startAt. */
  private next = 0;
  private ticking = false;

  constructor(
    private readonly time: Timers = realTimers,
    readonly periodMs = PLAYOUT_PERIOD_MS,
    private readonly logger?: Pick<Logger, 'error'>,
  ) {
    if (!(periodMs > 0)) throw new RangeError(`periodMs must be > 0, got ${periodMs}`);
  }

  now(): number {
    return this.time.now();
  }

  /** Listeners currently attached. */
  get size(): number {
    return this.listeners.size;
  }

  /** Whether the timer is armed (false when nobody is attached). */
  get running(): boolean {
    return this.cancel !== undefined || this.ticking;
  }

  attach(listener: TickListener): void {
    this.listeners.add(listener);
    if (!this.running) {
      this.startAt = this.time.now();
      this.next = 1;
      this.arm();
    }
  }

  detach(listener: TickListener): void {
    this.listeners.delete(listener);
    if (this.listeners.size === 0 && this.cancel !== undefined) {
      this.cancel();
      this.cancel = undefined;
    }
  }

  private arm(): void {
    const due = this.startAt + this.next * this.periodMs;
    this.cancel = this.time.after(Math.max(0, due - this.time.now()), this.run);
  }

  private readonly run = (): void => {
    this.cancel = undefined;
    const now = this.time.now();
    const lag = Math.max(0, now - (this.startAt + this.next * this.periodMs));
    const behind = Math.floor(lag / this.periodMs);
    const s = this.stats;
    s.ticks += 1;
    if (lag > s.maxLagMs) s.maxLagMs = lag;
    if (behind > 0) {
      s.lateTicks += 1;
      s.skippedTicks += behind;
    }
    this.next += behind + 1;
    this.ticking = true;
    try {
      // Set iteration tolerates listeners detaching (themselves or others) mid-tick.
      for (const l of this.listeners) {
        try {
          l.onTick(now, lag);
        } catch (err) {
          // One call's bug must not stop every other call's audio.
          this.logger?.error({ err }, 'playout tick listener threw');
        }
      }
    } finally {
      this.ticking = false;
    }
    if (this.listeners.size > 0) this.arm();
  };
}

let shared: PlayoutScheduler | undefined;

/** The process-wide real-time ticker every StreamPlayout uses unless given another clock. */
export function sharedPlayoutScheduler(): PlayoutScheduler {
  shared ??= new PlayoutScheduler();
  return shared;
}
