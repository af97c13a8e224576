/**
 * Fixed-capacity ring of PCM16 samples. Bounded by construction: when full, a write overwrites the
 * oldest samples (the ring always holds the most recent `capacity` samples). Never allocates after
 * construction. Used for the endpointer's pre-roll (newest samples) and the Silero backlog (FIFO via shift).
 */
export class Int16RingBuffer {
  readonly capacity: number;
  private readonly data: Int16Array;
  /** Index where the next sample is written. */
  private head = 0;
  private filled = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`ring capacity must be a non-negative integer, got ${capacity}`);
    this.capacity = capacity;
    this.data = new Int16Array(capacity);
  }

  /** Samples currently held (≤ capacity). */
  get length(): number {
    return this.filled;
  }

  /** Appends `src`; when the ring is full the oldest samples are overwritten (only the last `capacity` of `src` survive). */
  write(src: Int16Array): void {
    const cap = this.capacity;
    if (cap === 0) return;
    let from = 0;
    let n = src.length;
    if (n > cap) {
      from = n - cap;
      n = cap;
    }
    const first = Math.min(n, cap - this.head);
    this.data.set(src.subarray(from, from + first), this.head);
    if (n > first) this.data.set(src.subarray(from + first, from + n), 0);
    this.head = (this.head + n) % cap;
    this.filled = Math.min(cap, this.filled + n);
  }

  /** Copies the most recent `n` samples (oldest first) into `dest` at `destOffset`; n is clamped to `length`. Returns samples copied. */
  copyLatest(n: number, dest: Int16Array, destOffset = 0): number {
    const count = Math.max(0, Math.min(n, this.filled));
    if (count === 0) return 0;
    const start = (this.head - count + this.capacity) % this.capacity;
    const first = Math.min(count, this.capacity - start);
    dest.set(this.data.subarray(start, start + first), destOffset);
    if (count > first) dest.set(this.data.subarray(0, count - first), destOffset + first);
    return count;
  }

  /** Removes the oldest `n` samples (clamped to `length`), copying them into `dest` when given (FIFO use). Returns samples removed. */
  shift(n: number, dest?: Int16Array, destOffset = 0): number {
    const count = Math.max(0, Math.min(n, this.filled));
    if (count === 0) return 0;
    const start = (this.head - this.filled + this.capacity) % this.capacity;
    if (dest) {
      const first = Math.min(count, this.capacity - start);
      dest.set(this.data.subarray(start, start + first), destOffset);
      if (count > first) dest.set(this.data.subarray(0, count - first), destOffset + first);
    }
    this.filled -= count;
    return count;
  }

  clear(): void {
    this.head = 0;
    this.filled = 0;
  }
}
