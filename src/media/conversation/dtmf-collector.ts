import { type CancelTimer, realTimers, type Timers } from '../../lib/timers';

/**
 * Collects DTMF digits into one caller input: digits typed in a burst become "[DTMF 123#]" after
 * `idleMs` without a new digit (or at once on '#'). The same digit reported by both the media
 * stream and the `call.dtmf.received` webhook within `dupWindowMs` counts once. A burst is cut at
 * MAX_DTMF_DIGITS, so a peer sending digits without a pause cannot grow one input without end.
 */

/** Longest single DTMF input: a card number, expiry and code typed in one go stay well under it. */
export const MAX_DTMF_DIGITS = 32;

export class DtmfCollector {
  private digits = '';
  private cancelFlush: CancelTimer | undefined;
  private last: { digit: string; source: string; at: number } | undefined;

  constructor(
    private readonly onInput: (text: string) => void,
    private readonly idleMs = 1000,
    private readonly dupWindowMs = 300,
    private readonly now: () => number = Date.now,
    private readonly timers: Timers = realTimers,
  ) {}

  push(digit: string, source: 'media' | 'webhook'): void {
    if (!/^[0-9A-D*#]$/i.test(digit)) return;
    const t = this.now();
    const l = this.last;
    if (l && l.digit === digit && l.source !== source && t - l.at <= this.dupWindowMs) return;
    this.last = { digit, source, at: t };
    this.digits += digit.toUpperCase();
    this.cancelFlush?.();
    if (digit === '#' || this.digits.length >= MAX_DTMF_DIGITS) return this.flush();
    this.cancelFlush = this.timers.after(this.idleMs, () => this.flush());
  }

  /** Digits typed and not yet sent as an input. */
  get pending(): string {
    return this.digits;
  }

  /** Digits typed before the call moved here: they wait for the rest of the input as if typed now. */
  restore(digits: string): void {
    for (const d of digits) this.push(d, 'media');
  }

  private flush(): void {
    this.cancelFlush?.();
    this.cancelFlush = undefined;
    if (!this.digits) return;
    const text = `[DTMF ${this.digits}]`;
    this.digits = '';
    this.onInput(text);
  }

  close(): void {
    this.cancelFlush?.();
    this.cancelFlush = undefined;
    this.digits = '';
  }
}
