/**
 * The one outbound audio clock for every call in the process (the discord.js voice model): a
 * single drift-corrected 20 ms ticker that each active playout attaches to while it has audio to
 * send or marks to wait for. Tick n is due at start + n × period, computed from the start
 * timestamp, so setTimeout error never accumulates. A tick that fires late runs once (not once per
 * missed period): listeners pace on time, not on tick counts, so one call catches up on everything
 * that is due, and each listener bounds its own burst (StreamPlayout: maxAheadMs).
 *
 * The timer runs only while someone is attached, and is unref'd: it never keeps the process alive.
 */
import type { Logger } from '../../lib/logger';

/** RTP packetization: Telnyx plays and sends 20 ms frames (docs/design.md §Telnyx). */
export const PLAYOUT_PERIOD_MS = 20;

/** Where the ticker reads time and arms its one timer (real: performance.now + setTimeout). */
export interface TimeSource {
  /** Monotonic milliseconds. */
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export interface TickListener {
  /** `lagMs`: how late this tick fired after its due time (0 when punctual). */
  onTick(now: number, lagMs: number): void;
}

/** What a playout needs from the clock: time, and a slot on the shared ticker. */
export interface PlayoutClock {
  now(): number;
  /** Idempotent. The first attach starts the ticker. */
  attach(listener: TickListener): void;
  /** Idempotent. The last detach stops the ticker. */
  detach(listener: TickListener): void;
}

export const realTime: TimeSource = {
  // performance.now, not Date.now: wall-clock steps (NTP) must not speed up or stall playout.
  now: () => performance.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

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
  private timer: unknown = undefined;
  private startAt = 0;
  /** Index of the next due tick, counted from startAt. */
  private next = 0;
  private ticking = false;

  constructor(
    private readonly time: TimeSource = realTime,
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
    return this.timer !== undefined || this.ticking;
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
    if (this.listeners.size === 0 && this.timer !== undefined) {
      this.time.clearTimer(this.timer);
      this.timer = undefined;
    }
  }

  private arm(): void {
    const due = this.startAt + this.next * this.periodMs;
    this.timer = this.time.setTimer(this.run, Math.max(0, due - this.time.now()));
  }

  private readonly run = (): void => {
    this.timer = undefined;
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
