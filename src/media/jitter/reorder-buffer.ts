/**
 * Puts media frames back in order by their sequence key (Telnyx does not guarantee order) within
 * a small jitter window. In-order frames pass straight through (no added latency); a missing frame
 * holds later ones back until the window overflows, then is reported as a gap so the caller can
 * insert silence of the right length.
 *
 * Bounded in memory and in work per push, whatever numbers the sender picks:
 * - at most `window` frames are held;
 * - one push reports at most `maxGapFill` gap frames. A forward jump larger than that is not loss
 *   we could conceal but a renumbered (or hostile) stream: the buffer releases what it holds,
 *   reports `maxGapFill` frames of silence and RESYNCS to the new key, never looping over the gap;
 * - a frame far behind (more than window + maxGapFill) is dropped as late, but a run of
 *   `lateRunToResync` such frames with rising keys means the sender restarted its numbering:
 *   the buffer resyncs to it instead of dropping the rest of the call as "late";
 * - keys that are not non-negative safe integers are counted as invalid and ignored (beyond 2^53
 *   `next + 1` stops changing, which is how the unbounded version looped forever).
 */
export interface ReorderStats {
  reordered: number;
  gaps: number;
  late: number;
  duplicates: number;
  resyncs: number;
  invalid: number;
}

/** What happened to a frame that did not simply pass: reported so callers can count it. */
export type ReorderEvent = 'late' | 'duplicate' | 'resync' | 'invalid';

export interface ReorderOptions<T = unknown> {
  /** Most gap frames one push may report; a longer jump resyncs. Default 10 (200 ms of 20 ms frames). */
  maxGapFill?: number;
  /** Consecutive far-behind frames with rising keys that mean a restarted numbering. Default 3. */
  lateRunToResync?: number;
  /** Called on the rare paths only (never for an in-order frame). */
  onEvent?(event: ReorderEvent): void;
  /**
   * Applied to an item the buffer holds back (out of order) before it is stored: e.g. a copy of a
   * view into a larger buffer, so a held frame does not keep all of it alive. In-order items pass
   * untouched.
   */
  retain?(item: T): T;
}

/** 10 × 20 ms = 200 ms: covers a real burst loss, stays below any end-of-turn silence, so a jump cannot end a turn. */
const DEFAULT_MAX_GAP_FILL = 10;
/** 3 × 20 ms: one or two stale frames are a replay; three in a row, counting up, are a new numbering. */
const DEFAULT_LATE_RUN_TO_RESYNC = 3;

export class ReorderBuffer<T> {
  private readonly slots: (T | undefined)[];
  private readonly keys: Float64Array;
  private next: number | undefined;
  /** Frames in `slots`; all have keys in [next, next + window). */
  private held = 0;
  private readonly maxGapFill: number;
  private readonly lateRunToResync: number;
  /** Keys this far from `next` (either way) are a jump, not jitter or loss. */
  private readonly farAway: number;
  private lateRun = 0;
  private lastLateKey = -1;
  private readonly onEvent: ((event: ReorderEvent) => void) | undefined;
  private readonly retain: ((item: T) => T) | undefined;
  readonly stats: ReorderStats = { reordered: 0, gaps: 0, late: 0, duplicates: 0, resyncs: 0, invalid: 0 };

  constructor(
    private readonly window: number,
    private readonly emit: (item: T) => void,
    private readonly emitGap: (missingFrames: number) => void,
    opts: ReorderOptions<T> = {},
  ) {
    this.slots = new Array<T | undefined>(window).fill(undefined);
    this.keys = new Float64Array(window).fill(-1);
    this.maxGapFill = Math.max(1, opts.maxGapFill ?? DEFAULT_MAX_GAP_FILL);
    this.lateRunToResync = Math.max(1, opts.lateRunToResync ?? DEFAULT_LATE_RUN_TO_RESYNC);
    this.farAway = window + this.maxGapFill;
    this.onEvent = opts.onEvent;
    this.retain = opts.retain;
  }

  push(key: number, item: T): void {
    if (!Number.isSafeInteger(key) || key < 0) {
      this.stats.invalid += 1;
      this.onEvent?.('invalid');
      return;
    }
    if (this.next === undefined) this.next = key;
    // The common case: the expected frame, nothing held. Pass it straight on.
    if (key === this.next && this.held === 0) {
      this.next = key + 1;
      this.lateRun = 0;
      this.emit(item);
      return;
    }
    if (key < this.next) return this.behind(key, item);
    this.lateRun = 0;
    if (key - this.next >= this.farAway) return this.resync(key, item);
    if (key !== this.next) this.stats.reordered += 1;
    // Releases at most key − next − window + 1 < maxGapFill slots (farAway bounds the distance).
    while (key >= this.next + this.window) this.releaseOne();
    const i = key % this.window;
    if (this.keys[i] === key) {
      this.stats.duplicates += 1;
      this.onEvent?.('duplicate');
      return;
    }
    this.slots[i] = this.retain ? this.retain(item) : item;
    this.keys[i] = key;
    this.held += 1;
    this.drain();
  }

  /** A frame without a number: arrival order is all we know, so it goes after everything received. */
  pushUnnumbered(item: T): void {
    let key = this.next ?? 0;
    for (const k of this.keys) if (k >= key) key = k + 1;
    this.push(key, item);
  }

  /** Releases everything held, reporting holes between held frames as gaps (stream stop). */
  flush(): void {
    this.releaseHeld();
  }

  /** Flushes, then forgets the numbering: the next key pushed starts a new sequence (stream restart). */
  reset(): void {
    this.releaseHeld();
    this.next = undefined;
    this.lateRun = 0;
  }

  private behind(key: number, item: T): void {
    if (this.next! - key >= this.farAway) {
      this.lateRun = this.lateRun > 0 && key > this.lastLateKey ? this.lateRun + 1 : 1;
      this.lastLateKey = key;
      if (this.lateRun >= this.lateRunToResync) return this.resync(key, item);
    } else {
      this.lateRun = 0;
    }
    this.stats.late += 1;
    this.onEvent?.('late');
  }

  /** Jump to `key`: release what is held (≤ window slots), conceal at most maxGapFill frames in all, go on from key. */
  private resync(key: number, item: T): void {
    this.stats.resyncs += 1;
    this.onEvent?.('resync');
    const concealed = this.releaseHeld();
    const fill = Math.min(key - this.next!, this.maxGapFill - concealed);
    if (fill > 0) {
      this.stats.gaps += fill;
      this.emitGap(fill);
    }
    this.next = key + 1;
    this.lateRun = 0;
    this.emit(item);
  }

  /** Releases up to the last held frame (at most `window` slots); returns the gap frames reported. */
  private releaseHeld(): number {
    let gaps = 0;
    while (this.held > 0) if (!this.releaseOne()) gaps += 1;
    return gaps;
  }

  /** Releases slot `next`: its frame, or a one-frame gap. Returns whether a frame was there. */
  private releaseOne(): boolean {
    const n = this.next!;
    const i = n % this.window;
    this.next = n + 1;
    if (this.keys[i] === n) {
      const item = this.slots[i] as T;
      this.slots[i] = undefined;
      this.keys[i] = -1;
      this.held -= 1;
      this.emit(item);
      return true;
    }
    this.stats.gaps += 1;
    this.emitGap(1);
    return false;
  }

  private drain(): void {
    for (;;) {
      const i = this.next! % this.window;
      if (this.keys[i] !== this.next) return;
      this.releaseOne();
    }
  }
}
