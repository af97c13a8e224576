/**
 * The table of `npm run bench` (scripts/bench/report.ts) over sample benchmark JSON: bars compared in
 * the right direction, problems that fail a bar whatever the value, and benchmarks that were not run,
 * crashed or wrote no result. No benchmark runs here and nothing is timed.
 */
import {
  BARS,
  buildRows,
  exitCodeFor,
  formatValue,
  meetsBar,
  parseResult,
  renderTable,
  totals,
  type BenchOutcome,
  type Row,
} from '../../scripts/bench/report';

const setupJson = { bench: 'setup', rate: 20, durationSec: 30, n: 600, p50: 10.8, p95: 17.5, p99: 25.3, max: 40, failures: 0, pass: true };
const turnJson = {
  bench: 'turn',
  vad: 'silero',
  calls: 3,
  turn: { n: 24, p50: 16, p95: 55.2, p99: 80, max: 93, pass: false },
  bargeIn: { n: 12, p50: 60, p95: 81, max: 85, pass: true },
  failures: 0,
  pass: false,
};
const mediaJson = {
  bench: 'media',
  vad: 'silero',
  steps: [
    { calls: 100, pass: true, lost: 0, rssPerCallKb: 520, loopDelayMs: { p50: 1, p99: 8.2, max: 12 }, failures: [] },
    { calls: 200, pass: true, lost: 0, rssPerCallKb: 470, loopDelayMs: { p50: 2, p99: 17.7, max: 25 }, failures: [] },
    { calls: 300, pass: false, lost: 12, rssPerCallKb: 460, loopDelayMs: { p50: 9, p99: 48, max: 80 }, failures: ['loop delay p99 48.0 ms > 20', '12 frames lost'], procCpuPct: { runtime: 99, others: 3 } },
  ],
  maxCalls: 200,
  pass: false,
};
const webhookJson = {
  requests: 30_600,
  succeeded: 30_600,
  failed: 0,
  errorRate: 0,
  elapsedSec: 10.2,
  reqPerSec: 3000,
  statuses: { '200': 30_600 },
  latencyMs: { p50: 2.1, p95: 5.5, p99: 8.9, max: 30, mean: 2.5 },
  pass: true,
  setup: { concurrency: 64, offeredRps: 3000, durationSec: 10 },
};

const turnTakingJson = {
  summary: { v2vP50: 640.2, v2vP95: 912.5, v2vN: 6, cutoffs: 0, hesitations: 3, bcBrainTurns: 0, backchannels: 3, bcNotKept: 1, clearP95: 60.1, sttRatio: 1.29, brainPerTurn: 1 },
};

const ok = (bench: BenchOutcome['bench'], result: unknown): BenchOutcome => ({ bench, status: 'ok', result, exitCode: 0 });
const all = (): BenchOutcome[] => [ok('setup', setupJson), ok('media', mediaJson), ok('turn', turnJson), ok('turn-taking', turnTakingJson), ok('webhook', webhookJson)];
const row = (rows: Row[], metric: RegExp) => {
  const r = rows.find((x) => metric.test(x.metric));
  if (!r) throw new Error(`no row ${metric}`);
  return r;
};

describe('bench report: comparing with the bars', () => {
  it('has one row per bar of docs/design.md §Bars, in order', () => {
    const rows = buildRows(all());
    expect(rows.map((r) => r.bench)).toEqual(['setup', 'turn', 'turn', 'media', 'media', 'webhook', 'webhook', ...Array(8).fill('turn-taking')]);
    expect(rows.map((r) => r.bar)).toEqual([
      'p95 ≤ 25 ms', 'p95 ≤ 40 ms', '≤ 150 ms (every barge-in)', '≥ 500 calls', '≤ 1 MB RSS', '≥ 3,000/s', 'p99 ≤ 10 ms',
      'p50 ≤ 700 ms', 'p95 ≤ 900 ms', '0', '0', '0', 'p95 ≤ 400 ms', '≤ 1.5×', '≤ 1.3',
    ]);
  });

  it('passes and fails by the value and the direction of each bar', () => {
    const rows = buildRows(all());
    expect(row(rows, /answer/)).toMatchObject({ value: 17.5, verdict: 'PASS' });
    expect(row(rows, /first agent audio/)).toMatchObject({ value: 55.2, verdict: 'FAIL' });
    // Barge-in compares the worst case (every barge-in), not a percentile.
    expect(row(rows, /clear/)).toMatchObject({ value: 85, verdict: 'PASS' });
    expect(row(rows, /concurrent PCMU/)).toMatchObject({ value: 200, verdict: 'FAIL' });
    // Memory is read at the largest passing step.
    expect(row(rows, /memory/)).toMatchObject({ value: 470, verdict: 'PASS' });
    expect(row(rows, /per second/)).toMatchObject({ value: 3000, verdict: 'PASS' });
    expect(row(rows, /acknowledgement latency/)).toMatchObject({ value: 8.9, verdict: 'PASS' });
    expect(row(rows, /voice-to-voice.*Whisper/)).toMatchObject({ value: 640.2, verdict: 'PASS', measured: '640.2 ms (p95 912.5; n=6)' });
    expect(row(rows, /^voice-to-voice, complete sentence$/)).toMatchObject({ value: 912.5, verdict: 'FAIL' });
    expect(row(rows, /neither kept nor resumed/)).toMatchObject({ value: 1, verdict: 'FAIL', measured: '1 (of 3)' });
    expect(row(rows, /STT audio/)).toMatchObject({ value: 1.29, verdict: 'PASS', measured: '1.29×' });
    expect(totals(rows)).toEqual({ pass: 11, fail: 4, skip: 0, error: 0 });
  });

  it('puts context beside the value: percentiles, counts, why a load step failed', () => {
    const rows = buildRows(all());
    expect(row(rows, /answer/).measured).toBe('17.5 ms (p50 10.8, p99 25.3; n=600)');
    expect(row(rows, /concurrent PCMU/).measured).toBe('200 calls (at 200: loop p99 17.7 ms, lost 0; 300 failed: loop delay p99 48.0 ms > 20; 12 frames lost)');
    expect(row(rows, /per second/).measured).toMatch(/^3,000\/s \(offered 3,000\/s, 64 connections; 30600 requests in 10\.2 s\)$/);
  });

  it('treats the bar limit itself as met (≤ and ≥ are inclusive)', () => {
    expect(meetsBar(25, '<=', 25)).toBe(true);
    expect(meetsBar(25.01, '<=', 25)).toBe(false);
    expect(meetsBar(500, '>=', 500)).toBe(true);
    expect(meetsBar(499, '>=', 500)).toBe(false);
  });

  it('fails a bar on problems whatever the value: failed setups, failed webhooks', () => {
    const rows = buildRows([
      ok('setup', { ...setupJson, failures: 3 }),
      ok('webhook', { ...webhookJson, succeeded: 30_000, failed: 600, errorRate: 600 / 30_600 }),
    ]);
    expect(row(rows, /answer/)).toMatchObject({ value: 17.5, verdict: 'FAIL' });
    expect(row(rows, /answer/).measured).toMatch('3 setups failed');
    expect(row(rows, /per second/).verdict).toBe('FAIL');
    expect(row(rows, /per second/).measured).toMatch('600 requests failed');
  });

  it('marks the latency of a saturated webhook run', () => {
    const rows = buildRows([ok('webhook', { ...webhookJson, succeeded: 11_000, requests: 11_000, latencyMs: { p50: 45, p95: 89, p99: 129, max: 158 } })]);
    expect(row(rows, /per second/)).toMatchObject({ verdict: 'FAIL' });
    expect(row(rows, /acknowledgement latency/).measured).toMatch(/saturated at 1,078\/s/);
  });

  it('fails a bar that could not be measured (no samples, NaN written as null)', () => {
    const rows = buildRows([ok('turn', { ...turnJson, turn: { n: 0, p50: null, p95: null, p99: null, max: null } }), ok('setup', { ...setupJson, p95: null })]);
    expect(row(rows, /first agent audio/).verdict).toBe('FAIL');
    expect(row(rows, /first agent audio/).value).toBeUndefined();
    expect(row(rows, /first agent audio/).measured).toMatch(/^not measured/);
    expect(row(rows, /answer/).verdict).toBe('FAIL');
  });

  it('reads media with no passing step: 0 calls, memory at the first step', () => {
    const steps = [{ ...mediaJson.steps[2]!, calls: 100 }];
    const rows = buildRows([ok('media', { ...mediaJson, steps, maxCalls: 0 })]);
    expect(row(rows, /concurrent PCMU/)).toMatchObject({ value: 0, verdict: 'FAIL' });
    expect(row(rows, /memory/)).toMatchObject({ value: 460, verdict: 'PASS' });
    expect(row(rows, /memory/).measured).toBe('460 KB (at 100 calls, a failing step)');
  });

  it('says when other processes loaded the machine during the media steps', () => {
    const steps = [{ ...mediaJson.steps[0]!, procCpuPct: { runtime: 50, others: 105.2 } }, mediaJson.steps[2]!];
    const rows = buildRows([ok('media', { ...mediaJson, steps, maxCalls: 100 })]);
    expect(row(rows, /concurrent PCMU/).measured).toMatch(/machine shared: other processes used up to 105 % of a core\)$/);
    expect(row(buildRows(all()), /concurrent PCMU/).measured).not.toMatch(/machine shared/);
  });
});

describe('bench report: missing and crashed benchmarks', () => {
  it('shows benchmarks that were not run as SKIP and one that crashed as ERROR, keeping the others', () => {
    const outcomes: BenchOutcome[] = [
      ok('setup', setupJson),
      { bench: 'media', status: 'error', exitCode: 1, error: 'exit code 1, no result file' },
      { bench: 'turn', status: 'skipped' },
      // webhook: absent altogether
    ];
    const rows = buildRows(outcomes);
    expect(row(rows, /answer/).verdict).toBe('PASS');
    expect(rows.filter((r) => r.bench === 'media').map((r) => r.verdict)).toEqual(['ERROR', 'ERROR']);
    expect(row(rows, /concurrent PCMU/).measured).toBe('no result: exit code 1, no result file');
    expect(rows.filter((r) => r.bench === 'turn' || r.bench === 'webhook').every((r) => r.verdict === 'SKIP' && r.measured === 'not run')).toBe(true);
    expect(totals(rows)).toEqual({ pass: 1, fail: 0, skip: 12, error: 2 });
  });

  it('an ok outcome without a usable result object is an ERROR, not a crash of the report', () => {
    const rows = buildRows([ok('setup', undefined), ok('turn', [1, 2]), ok('media', { bench: 'media', steps: 'nonsense' })]);
    expect(row(rows, /answer/).verdict).toBe('ERROR');
    expect(row(rows, /clear/).verdict).toBe('ERROR');
    expect(row(rows, /concurrent PCMU/)).toMatchObject({ verdict: 'FAIL' });
    expect(row(rows, /concurrent PCMU/).measured).toMatch(/no load steps/);
  });

  it('exit code: 0 when bars fail (a report), 1 when a benchmark crashed or with strict and a failed bar', () => {
    const good = all();
    const rows = buildRows(good);
    expect(rows.some((r) => r.verdict === 'FAIL')).toBe(true);
    expect(exitCodeFor(good, rows)).toBe(0);
    expect(exitCodeFor(good, rows, true)).toBe(1);
    const crashed: BenchOutcome[] = [...good.slice(0, 3), { bench: 'webhook', status: 'error', error: 'timed out' }];
    expect(exitCodeFor(crashed, buildRows(crashed))).toBe(1);
    const skipped: BenchOutcome[] = [ok('setup', setupJson), { bench: 'media', status: 'skipped' }];
    expect(exitCodeFor(skipped, buildRows(skipped), true)).toBe(0);
  });
});

describe('bench report: result files and rendering', () => {
  it('parses a result file, and says what is wrong with a bad one', () => {
    expect(parseResult('setup', JSON.stringify(setupJson)).result).toEqual(setupJson);
    expect(parseResult('webhook', JSON.stringify(webhookJson)).result).toEqual(webhookJson); // load-test's result names no bench
    expect(parseResult('setup', undefined).error).toBe('no result file');
    expect(parseResult('setup', '').error).toBe('no result file');
    expect(parseResult('setup', '{"bench":"setup",').error).toMatch(/^result file is not JSON/);
    expect(parseResult('setup', '[1]').error).toBe('result file is not a JSON object');
    expect(parseResult('setup', JSON.stringify(turnJson)).error).toBe('result file is from bench "turn"');
  });

  it('renders a Markdown table with one line per bar and escaped pipes', () => {
    const rows = buildRows(all());
    rows[0] = { ...rows[0]!, measured: 'a | b' };
    const lines = renderTable(rows).split('\n');
    expect(lines).toHaveLength(2 + BARS.length);
    expect(lines[0]).toMatch(/^\| metric +\| bar \(docs\/design\.md §Bars\) +\| measured +\| result \|$/);
    expect(lines[1]).toMatch(/^\|-+\|-+\|-+\|-+\|$/);
    expect(lines[2]).toContain('a \\| b');
    // Every line has the same width (padded columns).
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
  });

  it('formats values in their unit', () => {
    expect(formatValue(17.46, 'ms')).toBe('17.5 ms');
    expect(formatValue(3412.4, '/s')).toBe('3,412/s');
    expect(formatValue(470.4, 'KB')).toBe('470 KB');
    expect(formatValue(200, 'calls')).toBe('200 calls');
  });
});
