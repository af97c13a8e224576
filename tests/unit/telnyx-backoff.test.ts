import { computeBackoffMs, parseRetryAfterMs } from '../../src/lib/telnyx/backoff';

describe('computeBackoffMs (exponential, full jitter)', () => {
  it('caps the delay at base·2^(attempt−1), bounded by maxMs', () => {
    expect(computeBackoffMs(1, 100, 10_000, undefined, () => 1)).toBe(100);
    expect(computeBackoffMs(2, 100, 10_000, undefined, () => 1)).toBe(200);
    expect(computeBackoffMs(5, 100, 10_000, undefined, () => 1)).toBe(1600);
    expect(computeBackoffMs(30, 100, 10_000, undefined, () => 1)).toBe(10_000);
    expect(computeBackoffMs(5000, 100, 10_000, undefined, () => 1)).toBe(10_000);
  });

  it('is uniform between 0 and the cap', () => {
    expect(computeBackoffMs(3, 100, 10_000, undefined, () => 0)).toBe(0);
    expect(computeBackoffMs(3, 100, 10_000, undefined, () => 0.5)).toBe(200);
    for (let i = 0; i < 1000; i++) {
      const d = computeBackoffMs(4, 100, 10_000);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(800);
    }
  });

  it('treats attempt < 1 and NaN as the first retry', () => {
    expect(computeBackoffMs(0, 100, 10_000, undefined, () => 1)).toBe(100);
    expect(computeBackoffMs(Number.NaN, 100, 10_000, undefined, () => 1)).toBe(100);
  });

  it('never returns less than Retry-After, even above maxMs', () => {
    expect(computeBackoffMs(1, 100, 10_000, 3000, () => 0)).toBe(3000);
    expect(computeBackoffMs(1, 100, 10_000, 3000, () => 1)).toBe(3000);
    expect(computeBackoffMs(10, 100, 10_000, 3000, () => 1)).toBe(10_000);
    expect(computeBackoffMs(1, 100, 1000, 30_000, () => 1)).toBe(30_000);
    expect(computeBackoffMs(1, 100, 1000, 0.4, () => 0)).toBe(1);
    expect(computeBackoffMs(1, 100, 1000, -5, () => 0)).toBe(0);
  });
});

describe('parseRetryAfterMs', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  it('parses delta-seconds', () => {
    expect(parseRetryAfterMs('2', now)).toBe(2000);
    expect(parseRetryAfterMs(' 0 ', now)).toBe(0);
    expect(parseRetryAfterMs('1.5', now)).toBe(1500);
    expect(parseRetryAfterMs(['7'], now)).toBe(7000);
  });
  it('parses an HTTP date relative to now, never negative', () => {
    expect(parseRetryAfterMs('Wed, 01 Jan 2025 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfterMs('Tue, 31 Dec 2024 23:59:00 GMT', now)).toBe(0);
  });
  it('returns undefined for absent or garbage values', () => {
    expect(parseRetryAfterMs(undefined, now)).toBeUndefined();
    expect(parseRetryAfterMs('', now)).toBeUndefined();
    expect(parseRetryAfterMs('-3', now)).toBeUndefined();
    expect(parseRetryAfterMs('soon', now)).toBeUndefined();
  });
});
