/**
 * npm run load-test:failover — failover scenarios against a runtime child process, each on its own
 * private stack (scripts/failover/). Prints one table per scenario; exits 1 when any scenario
 * found a problem, 2 on bad usage. Every scenario is bounded in time and stops by itself.
 *
 * Usage: npm run load-test:failover -- [--scenario NAME[,NAME...]|all] [scenario options...]
 *   telnyx-outage: [--calls 20] [--outage 10] [--mode mixed|503|refused]
 */
import { parseArgs } from 'node:util';
import type { OptionSpec, OptionValues, Scenario, ScenarioResult } from './failover/scenario';
import { closeAllStacks } from './failover/stack';
import { telnyxOutage } from './failover/telnyx-outage';

/** Every scenario, in the order `all` runs them. */
const SCENARIOS: Scenario[] = [telnyxOutage];

function usage(): string {
  const lines = ['npm run load-test:failover -- [--scenario NAME[,NAME...]|all] [options]', 'scenarios:'];
  for (const s of SCENARIOS) lines.push(`  ${s.name}: ${s.summary}${Object.keys(s.options).length ? ` (--${Object.keys(s.options).join(', --')})` : ''}`);
  return lines.join('\n');
}

function printTable(rows: Record<string, string | number>[]): void {
  if (rows.length === 0) return;
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (r: Record<string, string | number>, c: string) => String(r[c] ?? '');
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r, c).length)));
  const line = (vals: string[]) => `| ${vals.map((v, i) => v.padEnd(width[i]!)).join(' | ')} |`;
  console.log(line(cols));
  console.log(`|${width.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(cols.map((c) => cell(r, c))));
}

async function runBounded(s: Scenario, values: OptionValues): Promise<ScenarioResult> {
  const limitMs = s.maxSeconds(values) * 1000;
  let timer: NodeJS.Timeout | undefined;
  const overrun = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not finish within ${limitMs / 1000} s`)), limitMs);
  });
  try {
    return await Promise.race([s.run(values, (l) => console.log(`  [${s.name}] ${l}`)), overrun]);
  } catch (err) {
    await closeAllStacks();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

async function main(): Promise<number> {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      console.error(`\n${sig}: stopping what the scenarios started`);
      void closeAllStacks().finally(() => process.exit(130));
    });
  }
  const options: OptionSpec = { scenario: { type: 'string', default: 'all' }, help: { type: 'boolean', default: false } };
  for (const s of SCENARIOS) Object.assign(options, s.options);
  let values: OptionValues;
  try {
    values = parseArgs({ args: process.argv.slice(2), options, strict: true }).values as OptionValues;
  } catch (err) {
    console.error(`${(err as Error).message}\n${usage()}`);
    return 2;
  }
  if (values.help) {
    console.log(usage());
    return 0;
  }
  const wanted = String(values.scenario) === 'all' ? SCENARIOS.map((s) => s.name) : String(values.scenario).split(',');
  const unknown = wanted.filter((w) => !SCENARIOS.some((s) => s.name === w));
  if (unknown.length) {
    console.error(`unknown scenario ${unknown.join(', ')}\n${usage()}`);
    return 2;
  }
  let failed = 0;
  for (const s of SCENARIOS.filter((x) => wanted.includes(x.name))) {
    console.log(`\n== ${s.name}: ${s.summary}`);
    const t0 = performance.now();
    try {
      const r = await runBounded(s, values);
      printTable(r.rows);
      for (const n of r.notes ?? []) console.log(`  ${n}`);
      console.log(`  ${r.problems.length ? `FAILED: ${r.problems.join('; ')}` : 'passed'} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      if (r.problems.length) failed += 1;
    } catch (err) {
      console.log(`  FAILED: ${(err as Error).message}`);
      failed += 1;
    }
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
