/**
 * One single-producer single-consumer ring of records over a SharedArrayBuffer: the main thread
 * writes each call's PCM frames (and the endpointer controls, in order with them) for one front-end
 * worker, which reads them — no message per frame. Also holds each call slot's published state (in
 * speech, current pause, frames done) that the worker writes and the main thread reads.
 *
 * Layout: `ctl` (Int32): [write index, read index, doorbell, event batches consumed]; `data` (Int16): records of
 * HEADER words + payload: [op, slot, length, a_hi, a_lo, b_hi, b_lo, generation] then `length` samples. A
 * record that does not fit before the end of the ring is written at 0 after a WRAP word. Indices
 * are in Int16 words and only ever move forward modulo the capacity; the writer never lets write
 * catch up with read (one word stays free), so equal indices mean empty.
 */

export const OP_WRAP = 1;
export const OP_PCM = 2;
export const OP_RESET = 3;
export const OP_END_AFTER = 4;
export const OP_CLOSE = 5;

export const HEADER = 8;
const W = 0;
const R = 1;
/** The doorbell the writer rings (Atomics.notify) for records that must not wait for the reader's tick (controls). */
export const BELL = 2;
/** Event batches the main thread has handled (the worker sheds partials while it lags behind). */
export const CONSUMED = 3;
const CTL_WORDS = 4;

/** Per slot: [inSpeech 0/1, current pause id + 1 (0 = none), frames done, generation]. */
export const SLOT_WORDS = 4;
export const S_IN_SPEECH = 0;
export const S_PAUSE = 1;
export const S_DONE = 2;
export const S_GEN = 3;

export interface RingBuffers {
  ctl: SharedArrayBuffer;
  data: SharedArrayBuffer;
  slots: SharedArrayBuffer;
}

export function createRingBuffers(capacityWords: number, maxSlots: number): RingBuffers {
  return {
    ctl: new SharedArrayBuffer(CTL_WORDS * 4),
    data: new SharedArrayBuffer(capacityWords * 2),
    slots: new SharedArrayBuffer(maxSlots * SLOT_WORDS * 4),
  };
}

const hi = (v: number) => (v >>> 16) & 0xffff;
const lo = (v: number) => v & 0xffff;
const join = (h: number, l: number) => (((h & 0xffff) << 16) | (l & 0xffff)) >>> 0;

/** The main thread's end: appends records. */
export class RingWriter {
  readonly ctl: Int32Array;
  private readonly data: Int16Array;
  private readonly cap: number;

  constructor(b: RingBuffers) {
    this.ctl = new Int32Array(b.ctl);
    this.data = new Int16Array(b.data);
    this.cap = this.data.length;
  }

  /** Appends one record; false when the ring has no room (the reader fell behind). */
  write(op: number, slot: number, gen: number, a: number, b: number, pcm?: Int16Array): boolean {
    const len = pcm ? pcm.length : 0;
    const need = HEADER + len;
    const r = Atomics.load(this.ctl, R);
    let w = this.ctl[W]!;
    const free = (r - w - 1 + this.cap) % this.cap;
    if (w + need > this.cap) {
      // Wrap: the tail is skipped, the record goes to 0.
      const tail = this.cap - w;
      if (free < tail + need) return false;
      this.data[w] = OP_WRAP;
      w = 0;
    } else if (free < need) return false;
    const d = this.data;
    d[w] = op;
    d[w + 1] = slot;
    d[w + 2] = len;
    d[w + 3] = hi(a);
    d[w + 4] = lo(a);
    d[w + 5] = hi(b);
    d[w + 6] = lo(b);
    d[w + 7] = gen & 0xffff;
    if (pcm) d.set(pcm, w + HEADER);
    w += need;
    if (w === this.cap) w = 0;
    Atomics.store(this.ctl, W, w);
    return true;
  }

  ring(): void {
    Atomics.add(this.ctl, BELL, 1);
    Atomics.notify(this.ctl, BELL);
  }
}

export interface RingRecord {
  op: number;
  slot: number;
  /** The slot's generation, low 16 bits (a reused slot's old records are told apart). */
  gen: number;
  a: number;
  b: number;
  /** View into the ring: valid until `next()` is called again. */
  pcm: Int16Array;
}

/** The worker's end: reads records in order. */
export class RingReader {
  readonly ctl: Int32Array;
  private readonly data: Int16Array;
  private readonly cap: number;
  private readonly rec: RingRecord = { op: 0, slot: 0, gen: 0, a: 0, b: 0, pcm: new Int16Array(0) };
  /** Read index of the record last returned by peek (not yet consumed). */
  private at = -1;
  private nextAt = 0;

  constructor(b: RingBuffers) {
    this.ctl = new Int32Array(b.ctl);
    this.data = new Int16Array(b.data);
    this.cap = this.data.length;
  }

  /** The next record without consuming it, or undefined when the ring is empty. */
  peek(): RingRecord | undefined {
    let r = this.ctl[R]!;
    const w = Atomics.load(this.ctl, W);
    if (r === w) return undefined;
    if (this.data[r] === OP_WRAP || r + HEADER > this.cap) {
      r = 0;
      Atomics.store(this.ctl, R, 0);
      if (r === w) return undefined;
    }
    const d = this.data;
    const len = d[r + 2]! & 0xffff;
    const rec = this.rec;
    rec.op = d[r]!;
    rec.slot = d[r + 1]! & 0xffff;
    rec.gen = d[r + 7]! & 0xffff;
    rec.a = join(d[r + 3]!, d[r + 4]!);
    rec.b = join(d[r + 5]!, d[r + 6]!);
    rec.pcm = d.subarray(r + HEADER, r + HEADER + len);
    this.at = r;
    this.nextAt = (r + HEADER + len) % this.cap;
    return rec;
  }

  /** Consumes the record returned by the last peek (the writer may reuse its words from now). */
  consume(): void {
    if (this.at < 0) return;
    this.at = -1;
    Atomics.store(this.ctl, R, this.nextAt);
  }

  get doorbell(): number {
    return Atomics.load(this.ctl, BELL);
  }
}
