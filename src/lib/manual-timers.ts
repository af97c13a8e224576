/**
 * The fake of Timers for tests (shipped beside the interface, like agents-js's fakes): time moves
 * only when the test says so, and timers fire at exactly their due time, or late on purpose.
 */
import type { CancelTimer, Timers } from './timers';

interface Timer {
  at: number;
  fn: () => void;
}

export class ManualTime implements Timers {
  private t: number;
  private timers: Timer[] = [];

  constructor(start = 0) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  after(ms: number, fn: () => void): CancelTimer {
    const timer: Timer = { at: this.t + Math.max(0, ms), fn };
    this.timers.push(timer);
    return () => this.cancel(timer);
  }

  every(ms: number, fn: () => void): CancelTimer {
    const period = Math.max(1, ms);
    let cancel: CancelTimer = () => {};
    const arm = (): void => {
      cancel = this.after(period, () => {
        arm();
        fn();
      });
    };
    arm();
    return () => cancel();
  }

  /** Timers armed and not yet fired. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /** Due times of the armed timers (to check the ticker aims at start + n × period). */
  get dueTimes(): number[] {
    return this.timers.map((x) => x.at);
  }

  /** A punctual event loop: time moves forward by ms, each timer firing exactly when due. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const first = this.earliest();
      if (!first || first.at > end) break;
      this.t = Math.max(this.t, first.at);
      this.fire(first);
    }
    this.t = end;
  }

  /** A blocked event loop: time jumps by ms with nothing running, then each overdue timer fires once, late. */
  stall(ms: number): void {
    this.t += ms;
    for (const x of this.timers.filter((y) => y.at <= this.t)) this.fire(x);
  }

  private cancel(timer: Timer): void {
    const i = this.timers.indexOf(timer);
    if (i >= 0) this.timers.splice(i, 1);
  }

  private earliest(): Timer | undefined {
    let best: Timer | undefined;
    for (const x of this.timers) if (!best || x.at < best.at) best = x;
    return best;
  }

  private fire(x: Timer): void {
    this.cancel(x);
    x.fn();
  }
}
