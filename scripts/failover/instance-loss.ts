/**
 * `npm run load-test:failover -- --scenario deploy,crash`: a two-instance fleet on a private
 * redis-server (fleet.ts), callers in mid-conversation, then one instance gets SIGTERM (deploy) or
 * SIGKILL (crash). Prints per run: calls moved, the audio gap of each moved call, whether every
 * call's next turn was answered with its old history, calls dropped, capacity slots left.
 */
import { startRedisServer } from '../sim/redis-server';
import { startFleet } from './fleet';
import { percentile, runHandoff, type HandoffKind } from './handoff';
import type { OptionValues, Scenario, ScenarioResult } from './scenario';

const round = (v: number | undefined) => (v === undefined ? '-' : Math.round(v));

function scenario(kind: HandoffKind): Scenario {
  const bar = kind === 'deploy' ? { gap: 'p95 ≤ 1500 ms', limit: (g: number[]) => (percentile(g, 95) ?? Infinity) <= 1500 } : { gap: 'max ≤ 8000 ms', limit: (g: number[]) => Math.max(...g) <= 8000 };
  return {
    name: kind,
    summary:
      kind === 'deploy'
        ? 'SIGTERM one of two instances holding live calls: each call handed to the other, next turn answered'
        : 'SIGKILL one of two instances holding live calls: the other takes them over, next turn answered',
    options: {
      'handoff-calls': { type: 'string', default: '6' },
      'handoff-runs': { type: 'string', default: '2' },
    },
    maxSeconds: (v) => 60 + Number(v['handoff-runs'] ?? 2) * (90 + Number(v['handoff-calls'] ?? 6) * 3),
    async run(v: OptionValues, log): Promise<ScenarioResult> {
      const calls = Math.max(1, Math.min(40, Number(v['handoff-calls'] ?? 6)));
      const runs = Math.max(1, Math.min(10, Number(v['handoff-runs'] ?? 2)));
      const rows: ScenarioResult['rows'] = [];
      const problems: string[] = [];
      const allGaps: number[] = [];
      for (let i = 1; i <= runs; i += 1) {
        const redis = await startRedisServer();
        const fleet = await startFleet({ redisUrl: redis.url, instances: 2 }).catch(async (err: unknown) => {
          await redis.destroy();
          throw err;
        });
        try {
          log(`run ${i}: ${calls} calls on 2 instances, then ${kind === 'deploy' ? 'SIGTERM' : 'SIGKILL'}`);
          const r = await runHandoff(fleet, kind, calls);
          const moved = r.calls.filter((c) => c.moved);
          const gaps = moved.map((c) => c.gapMs).filter((g): g is number => g !== undefined);
          allGaps.push(...gaps);
          const dropped = r.calls.filter((c) => c.endedBy !== 'caller').length;
          const unanswered = r.calls.filter((c) => !c.nextTurnAnswered).length;
          const historyLost = r.calls.filter((c) => !c.historyKept).length;
          rows.push({
            run: i,
            calls,
            moved: moved.length,
            'gap p50 ms': round(percentile(gaps, 50)),
            'gap p95 ms': round(percentile(gaps, 95)),
            'gap max ms': round(gaps.length ? Math.max(...gaps) : undefined),
            'next turn answered': `${calls - unanswered}/${calls}`,
            'history kept': `${calls - historyLost}/${calls}`,
            dropped,
            'exit code': r.exitCode,
            'slots left': r.slotsAfter,
          });
          if (gaps.length !== moved.length) problems.push(`run ${i}: ${moved.length - gaps.length} moved calls never reconnected`);
          if (dropped) problems.push(`run ${i}: ${dropped} calls dropped`);
          if (unanswered) problems.push(`run ${i}: ${unanswered} calls' next turn not answered`);
          if (historyLost) problems.push(`run ${i}: ${historyLost} calls lost their history`);
          if (r.slotsAfter) problems.push(`run ${i}: ${r.slotsAfter} capacity slots left held`);
          if (kind === 'deploy' && r.exitCode !== 0) problems.push(`run ${i}: the drained instance exited ${r.exitCode}`);
        } finally {
          await fleet.close();
          await redis.destroy();
        }
      }
      if (allGaps.length && !bar.limit(allGaps)) problems.push(`audio gap over the bar (${bar.gap})`);
      return {
        rows,
        problems,
        notes: [
          `gap: ${kind === 'deploy' ? 'the last caller frame on the old socket → the first on the new' : 'SIGKILL → the new stream connected'}; bar ${bar.gap}; all runs p95 ${round(percentile(allGaps, 95))} ms, max ${round(allGaps.length ? Math.max(...allGaps) : undefined)} ms (n=${allGaps.length})`,
        ],
      };
    },
  };
}

export const deployHandoff = scenario('deploy');
export const crashTakeover = scenario('crash');
