/**
 * npm run bench:hostile [-- --json FILE]: the hostile-input suite (scripts/hostile/run.ts) against a
 * runtime child process, printed as a table. Exits 1 when any group left the process dead, answered
 * hostile input with anything but a 4xx / WS close, let /health/live go over 100 ms, grew RSS by more
 * than 50 MB, or broke the normal call that follows it.
 */
import { writeFileSync } from 'node:fs';
import { formatHostileReport, runHostileSuite, type GroupResult } from '../hostile/run';
import { parseArgs } from '../lib/stats';

export const HOSTILE_BARS = { healthMs: 100, rssDeltaMb: 50 };

/** Why a group misses the bars; empty when it meets them all. */
export function hostileFailures(g: GroupResult): string[] {
  const out: string[] = [];
  if (!g.alive) out.push('process died');
  if (g.bad.length > 0) out.push(`answered ${g.bad.map((b) => `${b.name} → ${String(b.answer)}`).join(', ')}`);
  const sorted = [...g.healthMs].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? Infinity;
  if (!(median <= HOSTILE_BARS.healthMs)) out.push(`/health/live median ${median.toFixed(1)} ms`);
  if (!(g.rssDeltaMb <= HOSTILE_BARS.rssDeltaMb)) out.push(`RSS +${g.rssDeltaMb.toFixed(1)} MB`);
  if (!g.callTranscribed) out.push('the next call was not transcribed');
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = new Date().toISOString();
  const report = await runHostileSuite({ log: (l) => console.error(l) });
  console.log(`hostile input, ${started}, ${process.platform} ${process.arch}, node ${process.version}`);
  console.log(formatHostileReport(report));
  const failures = report.groups.flatMap((g) => hostileFailures(g).map((f) => `${g.group}: ${f}`));
  for (const f of failures) console.log(`FAIL ${f}`);
  if (args.json) writeFileSync(args.json, JSON.stringify({ started, ...report, failures }, null, 2));
  process.exitCode = failures.length ? 1 : 0;
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
