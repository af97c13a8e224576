/**
 * How busy this process's event loop has been lately: event-loop utilization (ELU, the share of time
 * the loop was running callbacks rather than waiting for I/O) over the last sampling interval.
 * One timer per process (Timers.every, unref'd by realTimers); reading `utilization` costs nothing.
 * Used to shed best-effort work (partial transcripts) before it delays the work that matters
 * (frames, finals, playout).
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { type CancelTimer, realTimers, type Timers } from './timers';

export class LoopLoad {
  /** ELU of the last complete interval, 0..1. */
  utilization = 0;
  private last: EventLoopUtilization = performance.eventLoopUtilization();
  private readonly cancel: CancelTimer;

  constructor(intervalMs = 500, timers: Timers = realTimers) {
    this.cancel = timers.every(intervalMs, () => {
      const now = performance.eventLoopUtilization();
      this.utilization = performance.eventLoopUtilization(now, this.last).utilization;
      this.last = now;
    });
  }

  close(): void {
    this.cancel();
  }
}
