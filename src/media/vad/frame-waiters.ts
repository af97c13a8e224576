/**
 * The pending verdicts of a frame-based VAD whose scoring runs behind its pushes (Silero, in this
 * thread or on the worker): each waiter is "the probability once `target` samples have been
 * consumed", resolved in push order as scoring advances. Consecutive pushes that complete the same
 * frame share one promise.
 */
interface Waiter {
  target: number;
  promise: Promise<number>;
  resolve: (p: number) => void;
}

export class FrameWaiters {
  private readonly list: Waiter[] = [];

  constructor(private readonly frameSamples: number) {}

  /**
   * The verdict for everything pushed so far (`written` samples): `prob` at once when every whole
   * frame is scored (`consumed`), else a promise settled when scoring reaches the last whole frame.
   */
  verdict(written: number, consumed: number, prob: number): number | Promise<number> {
    const target = written - ((written - consumed) % this.frameSamples);
    if (consumed >= target) return prob;
    const last = this.list[this.list.length - 1];
    if (last && last.target === target) return last.promise;
    let resolve!: (p: number) => void;
    const promise = new Promise<number>((r) => (resolve = r));
    this.list.push({ target, promise, resolve });
    return promise;
  }

  /** Scoring consumed `consumed` samples; `prob` is now in force. */
  settle(consumed: number, prob: number): void {
    const w = this.list;
    let done = 0;
    while (done < w.length && w[done]!.target <= consumed) {
      w[done]!.resolve(prob);
      done += 1;
    }
    if (done > 0) w.splice(0, done);
  }

  /** Nothing more will be scored for these: resolve them all with `prob`. */
  settleAll(prob: number): void {
    for (const x of this.list.splice(0)) x.resolve(prob);
  }
}
