/**
 * Puts media frames back in order by their sequence key (Telnyx does not guarantee order) within
 * a small jitter window. In-order frames pass straight through (no added latency); a missing frame
 * holds later ones back until the window overflows, then is reported as a gap so the caller can
 * insert silence of the right length. Bounded: at most `window` frames are held.
 */
export interface ReorderStats {
  reordered: number;
  gaps: number;
  late: number;
  duplicates: number;
}

export class ReorderBuffer<T> {
  private readonly slots: (T | undefined)[];
  private readonly keys: Float64Array;
  private next: number | undefined;
  readonly stats: ReorderStats = { reordered: 0, gaps: 0, late: 0, duplicates: 0 };

  constructor(
    private readonly window: number,
    private readonly emit: (item: T) => void,
    private readonly emitGap: (missingFrames: number) => void,
  ) {
    this.slots = new Array<T | undefined>(window).fill(undefined);
    this.keys = new Float64Array(window).fill(-1);
  }

  push(key: number, item: T): void {
    if (this.next === undefined) this.next = key;
    if (key < this.next) {
      this.stats.late += 1;
      return;
    }
    if (key !== this.next) this.stats.reordered += 1;
    while (key >= this.next + this.window) this.releaseOne();
    const i = key % this.window;
    if (this.keys[i] === key) {
      this.stats.duplicates += 1;
      return;
    }
    this.slots[i] = item;
    this.keys[i] = key;
    this.drain();
  }

  /** Releases everything held, reporting holes as gaps (stream stop). */
  flush(): void {
    if (this.next === undefined) return;
    let held = 0;
    for (const k of this.keys) if (k >= this.next) held += 1;
    while (held > 0) {
      const i: number = this.next % this.window;
      if (this.keys[i] === this.next) held -= 1;
      this.releaseOne();
    }
  }

  private releaseOne(): void {
    const n = this.next!;
    const i = n % this.window;
    if (this.keys[i] === n) {
      const item = this.slots[i] as T;
      this.slots[i] = undefined;
      this.keys[i] = -1;
      this.emit(item);
    } else {
      this.stats.gaps += 1;
      this.emitGap(1);
    }
    this.next = n + 1;
  }

  private drain(): void {
    for (;;) {
      const i = this.next! % this.window;
      if (this.keys[i] !== this.next) return;
      this.releaseOne();
    }
  }
}
