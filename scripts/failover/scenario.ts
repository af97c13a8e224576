/**
 * What a failover scenario is to `npm run load-test:failover` (scripts/load-test-failover.ts): a
 * name, its own command-line options, a bound on its wall time, and a run that returns one table.
 * Each scenario starts and stops everything it needs (scripts/failover/stack.ts helps) and must
 * stop by itself; the runner only enforces the bound and prints.
 */
import type { ParseArgsConfig } from 'node:util';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;
export type OptionValues = Record<string, string | boolean | undefined>;

export interface ScenarioResult {
  /** Column → value, in print order; one row per run or per case. */
  rows: Record<string, string | number>[];
  /** What went wrong (empty when the scenario passed): the runner exits 1 when any has problems. */
  problems: string[];
  /** Free-form lines printed under the table. */
  notes?: string[];
}

export interface Scenario {
  name: string;
  summary: string;
  /** Options this scenario reads (`--calls`, ...), merged into the runner's parser. */
  options: OptionSpec;
  /** Wall-time bound for the given options (setup and teardown included). */
  maxSeconds(values: OptionValues): number;
  run(values: OptionValues, log: (line: string) => void): Promise<ScenarioResult>;
}
