/**
 * How busy this process's event loop has been lately: event-loop utilization (ELU, the share of time
 * the loop was running callbacks rather than waiting for I/O) over the last sampling interval.
 * One timer per process, unref'd; reading `utilization` costs nothing. Used to shed best-effort work
 * (partial transcripts) before it delays the work that matters (frames, finals, playout).
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';

export class LoopLoad {
  /** ELU of the last complete interval, 0..1. */
  utilization = 0;
  private last: EventLoopUtilization = performance.eventLoopUtilization();
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 500) {
    this.timer = setInterval(() => {
      const now = performance.eventLoopUtilization();
      this.utilization = performance.eventLoopUtilization(now, this.last).utilization;
      this.last = now;
    }, intervalMs);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }
}
