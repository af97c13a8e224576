/**
 * The hostile-input suite against a real runtime process on loopback (scripts/hostile): after each
 * group of attacks the process is alive, /health/live answers within 100 ms (median of three probes),
 * RSS grew by at most 50 MB since the warm-up call, every hostile input got a 4xx / WS close (never a
 * 5xx or silence), and a normal call afterwards is still transcribed.
 */
import { hostileFailures } from '../../scripts/bench/hostile';
import { runHostileSuite, type HostileReport } from '../../scripts/hostile/run';

const GROUPS = [
  'upgrade targets',
  'malformed HTTP',
  'slow headers',
  'webhook bombs',
  'media frames',
  '/audio escapes',
  'label flood',
  'admin brute force',
  'webrtc offer flood',
];

describe('hostile input against a runtime process', () => {
  let report: HostileReport;

  beforeAll(async () => {
    report = await runHostileSuite();
  }, 600_000);

  it.each(GROUPS)('%s: process alive and responsive, bounded memory, 4xx answers, next call transcribed', (group) => {
    const g = report.groups.find((x) => x.group === group);
    expect(g).toBeDefined();
    expect(hostileFailures(g!)).toEqual([]);
  });

  it('throttles admin password guessing: a few 401s, then 429s', () => {
    const answers = report.groups.find((x) => x.group === 'admin brute force')!.outcomes.map((o) => o.answer);
    expect(answers.filter((a) => a === 401).length).toBeLessThanOrEqual(5);
    expect(answers.filter((a) => a === 429).length).toBeGreaterThanOrEqual(25);
  });

  it('answers a burst of fake WebRTC offers with 400s and 429s, never taking a slot (the phone call after it is admitted)', () => {
    const g = report.groups.find((x) => x.group === 'webrtc offer flood')!;
    const answers = g.outcomes.map((o) => o.answer);
    expect(answers.every((a) => a === 400 || a === 429)).toBe(true);
    expect(answers.filter((a) => a === 429).length).toBeGreaterThanOrEqual(50);
    expect(g.callTranscribed).toBe(true);
  });

  it('keeps the HTTP metric series bounded under the label flood', () => {
    const g = report.groups.find((x) => x.group === 'label flood')!;
    const series = Number(/^(\d+) /.exec(g.notes)?.[1]);
    expect(series).toBeGreaterThan(0);
    expect(series).toBeLessThan(40);
  });
});
