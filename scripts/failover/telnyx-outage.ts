/**
 * Failover scenario `telnyx-outage`: the Telnyx Call Control API goes down while calls ring in.
 *
 * A runtime child process on a private Redis, the fake Call Control API and signed webhooks:
 * the API goes down (--mode: 503 for every command, connection refused, or the first half of
 * each), --calls `call.initiated` arrive at the start of the outage, the API comes back after
 * --outage seconds. Then every call must have exactly one successful `answer`, every attempt of
 * a command must carry one command_id, and after the callers hang up no capacity slot may be held.
 */
import { newCallControlId } from '../sim/signing';
import type { RecordedCommand } from '../sim/call-control-api';
import type { OptionValues, Scenario, ScenarioResult } from './scenario';
import { startStack, until } from './stack';

const TENANT = 'failover-tenant';
const DID = '+15550109999';
/** After the API is back, every answer must be in within this (the answer's backoff cap is 2 s). */
const RECOVERY_LIMIT_MS = 30_000;

type Mode = '503' | 'refused' | 'mixed';

function settings(v: OptionValues): { calls: number; outageSec: number; mode: Mode } {
  const calls = Number(v.calls ?? 20);
  const outageSec = Number(v.outage ?? 10);
  const mode = String(v.mode ?? 'mixed') as Mode;
  if (!Number.isInteger(calls) || calls < 1 || calls > 500) throw new Error(`--calls must be 1..500, got ${v.calls}`);
  if (!Number.isFinite(outageSec) || outageSec < 1 || outageSec > 100) throw new Error(`--outage must be 1..100 seconds (answers are retried for 120 s), got ${v.outage}`);
  if (!['503', 'refused', 'mixed'].includes(mode)) throw new Error(`--mode must be 503, refused or mixed, got ${v.mode}`);
  return { calls, outageSec, mode };
}

export const telnyxOutage: Scenario = {
  name: 'telnyx-outage',
  summary: 'Telnyx Call Control API down while calls ring in; every call answered once it is back',
  options: {
    calls: { type: 'string' },
    outage: { type: 'string' },
    mode: { type: 'string' },
  },
  maxSeconds: (v) => settings(v).outageSec + RECOVERY_LIMIT_MS / 1000 + 120,
  async run(v, log): Promise<ScenarioResult> {
    const { calls: n, outageSec, mode } = settings(v);
    const problems: string[] = [];
    const stack = await startStack({ runtimeEnv: { GLOBAL_CONCURRENCY_CAP: String(n + 10), TENANT_CONCURRENCY_CAP_DEFAULT: String(n + 10) } });
    try {
      await stack.seedTenant(TENANT, DID, { concurrent: n + 10, perMinute: n * 2 + 60 });
      const { api } = stack;
      const calls = Array.from({ length: n }, () => newCallControlId());
      const okAnswers = (id: string) => api.commands('answer', id).filter((c) => c.status === 200);

      await api.down(mode === 'refused' ? 'refused' : 503);
      const downAt = performance.now();
      log(`API down (${mode === 'mixed' ? `503, then refused after ${outageSec / 2} s` : mode}); ${n} calls ring in`);
      const statuses = await Promise.all(calls.map((id) => stack.send('call.initiated', id, { to: DID })));
      const refusedWebhooks = statuses.filter((s) => s !== 200).length;
      if (refusedWebhooks) problems.push(`${refusedWebhooks} call.initiated webhooks were not accepted`);
      if (mode === 'mixed') {
        await until(() => performance.now() - downAt >= (outageSec * 1000) / 2, outageSec * 1000);
        await api.down('refused');
      }
      await until(() => performance.now() - downAt >= outageSec * 1000, outageSec * 1000);
      const heldDuring = (await stack.capacity.usage(TENANT)).tenant;
      await api.up();
      const upAt = performance.now();
      log(`API up after ${((upAt - downAt) / 1000).toFixed(1)} s; ${heldDuring} slots held by ringing calls`);

      await until(() => calls.every((id) => okAnswers(id).length > 0), RECOVERY_LIMIT_MS);
      const answeredCalls = calls.filter((id) => okAnswers(id).length > 0);
      const lastAnswer = Math.max(...answeredCalls.map((id) => okAnswers(id)[0]!.at));
      // No command of these calls left to run: a second answer could only come from one.
      await until(async () => (await stack.pendingJobs('callControl')) === 0, 10_000);
      const pending = await stack.pendingJobs('callControl');

      const perCall = calls.map((id) => okAnswers(id).length);
      const commandIds = (id: string) => new Set(api.commands(undefined, id).map((c: RecordedCommand) => String(c.body.command_id)));
      const idsPerCommand = calls.map((id) => commandIds(id).size / Math.max(1, new Set(api.commands(undefined, id).map((c) => c.action)).size));
      const attempts = calls.map((id) => api.commands('answer', id).length);

      for (const id of calls) await stack.send('call.hangup', id, { to: DID, hangup_cause: 'normal_clearing' });
      await until(async () => (await stack.capacity.usage(TENANT)).global === 0 && (await stack.activeLeases()) === 0, 10_000);
      const usage = await stack.capacity.usage(TENANT);
      const leases = await stack.activeLeases();

      if (answeredCalls.length !== n) problems.push(`${n - answeredCalls.length} of ${n} calls never answered`);
      if (perCall.some((c) => c > 1)) problems.push(`a call was answered more than once (${Math.max(...perCall)} answers)`);
      if (idsPerCommand.some((k) => k !== 1)) problems.push('a command was retried under more than one command_id');
      if (pending !== 0) problems.push(`${pending} call-control jobs still pending after the answers`);
      if (usage.global !== 0 || leases !== 0) problems.push(`slots held at the end: Redis ${usage.global}, runtime leases ${leases}`);

      const range = (xs: number[]) => (Math.min(...xs) === Math.max(...xs) ? String(xs[0]) : `${Math.min(...xs)}–${Math.max(...xs)}`);
      return {
        rows: [
          {
            calls: n,
            'outage s': outageSec,
            mode,
            answered: answeredCalls.length,
            'answers per call': range(perCall),
            'command_ids per command': range(idsPerCommand),
            'answer requests per call (seen)': range(attempts),
            'API up → last answer (ms)': answeredCalls.length ? Math.max(0, Math.round(lastAnswer - upAt)) : '–',
            'slots held at end': usage.global + leases,
          },
        ],
        problems,
        notes: [
          ...(mode !== '503' ? ['answer requests made while the API refused connections never reached it: "seen" counts the others'] : []),
          ...(problems.length ? ['runtime output (last lines):', ...stack.runtime.tail(20)] : []),
        ],
      };
    } finally {
      await stack.close();
    }
  },
};
