/**
 * Output buffers that hand out views of their first n elements. The view is reused while n
 * repeats, so a stream of equal-sized frames (20 ms each) allocates nothing once warmed up.
 */
abstract class FrameBuffer<T extends Int16Array | Uint8Array> {
  private buf: T;
  private last: T;

  constructor(initialLength: number) {
    this.buf = this.make(initialLength);
    this.last = this.buf.subarray(0, 0) as T;
  }

  protected abstract make(length: number): T;

  /** Backing storage with room for at least n elements (grows by doubling, never shrinks). */
  reserve(n: number): T {
    if (n > this.buf.length) {
      this.buf = this.make(Math.max(n, this.buf.length * 2));
      this.last = this.buf.subarray(0, 0) as T;
    }
    return this.buf;
  }

  /** View of the first n elements of the current storage (call reserve(n) first). */
  view(n: number): T {
    if (this.last.length !== n || this.last.buffer !== this.buf.buffer) this.last = this.buf.subarray(0, n) as T;
    return this.last;
  }
}

export class Int16Frames extends FrameBuffer<Int16Array> {
  protected make(length: number): Int16Array {
    return new Int16Array(length);
  }
}

export class Uint8Frames extends FrameBuffer<Uint8Array> {
  protected make(length: number): Uint8Array {
    return new Uint8Array(length);
  }
}
