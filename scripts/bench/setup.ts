/**
 * bench:setup — webhook → Telnyx `answer` request latency (docs/design.md §Bars: p95 ≤ 25 ms at 20 call
 * setups/s). Boots a private redis-server, the runtime (in this process, real HTTP on loopback),
 * and the fake Telnyx Call Control API; sends signed `call.initiated` webhooks at a fixed rate and
 * measures until the fake API has received the `answer` command. Every call is hung up afterwards
 * so capacity never fills. Usage: npm run bench:setup -- [--rate 20] [--duration 30] [--json FILE]
 *   --json FILE  also write the BENCH_RESULT numbers (plus rate, duration, ack latency) to FILE
 */
import { writeFileSync } from 'node:fs';
import { startRedisServer } from '../../tests/support/redis-server';
import { parseArgs, summarize, fmt } from '../lib/stats';

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const rate = Number(args.rate ?? 20);
  const durationSec = Number(args.duration ?? 30);
  const redis = await startRedisServer();
  process.env.TEST_REDIS_URL = redis.url;
  // Imported after TEST_REDIS_URL is set: the harness reads it.
  const { createHarness, newCallControlId } = await import('../../tests/support/call-harness');
  const h = await createHarness({ GLOBAL_CONCURRENCY_CAP: '100000', TENANT_CONCURRENCY_CAP_DEFAULT: '100000', TENANT_CALLS_PER_MIN_CAP_DEFAULT: '100000' });
  const rt = await h.start();
  const did = '+15557654321';
  await h.seedTenant('bench-tenant', did);

  const webhookToAnswer: number[] = [];
  const ackLatency: number[] = [];
  let failures = 0;
  const total = Math.round(rate * durationSec);
  const waits: Promise<void>[] = [];
  const started = performance.now();
  console.log(`bench:setup: ${total} call setups at ${rate}/s for ${durationSec}s against the fake Telnyx API`);
  for (let i = 0; i < total; i += 1) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const callId = newCallControlId();
    const t0 = performance.now();
    const answered = h.telnyx.waitFor((c) => c.callControlId === callId && c.action === 'answer', 10_000);
    waits.push(
      (async () => {
        try {
          const res = await h.send(rt, 'call.initiated', callId, { to: did });
          ackLatency.push(performance.now() - t0);
          if (res.status !== 200) throw new Error(`webhook status ${res.status}`);
          const cmd = await answered;
          webhookToAnswer.push(cmd.at - t0);
          await h.send(rt, 'call.hangup', callId, { to: did });
        } catch (err) {
          failures += 1;
          answered.catch(() => undefined);
          if (failures <= 3) console.error(`setup failed: ${(err as Error).message}`);
        }
      })(),
    );
  }
  await Promise.all(waits);
  const s = summarize(webhookToAnswer);
  const a = summarize(ackLatency);
  console.log(`webhook ack:          p50 ${fmt(a.p50)}  p95 ${fmt(a.p95)}  p99 ${fmt(a.p99)}  max ${fmt(a.max)}`);
  console.log(`webhook → answer req: p50 ${fmt(s.p50)}  p95 ${fmt(s.p95)}  p99 ${fmt(s.p99)}  max ${fmt(s.max)}  (n=${s.n}, failures=${failures})`);
  const pass = s.p95 <= 25 && failures === 0;
  console.log(`bar p95 ≤ 25 ms: ${pass ? 'PASS' : 'FAIL'}`);
  console.log(`BENCH_RESULT ${JSON.stringify({ bench: 'setup', p50: s.p50, p95: s.p95, p99: s.p99, failures, pass })}`);
  if (args.json) {
    const result = { bench: 'setup', rate, durationSec, n: s.n, p50: s.p50, p95: s.p95, p99: s.p99, max: s.max, ack: { p50: a.p50, p95: a.p95, p99: a.p99, max: a.max }, failures, pass };
    writeFileSync(args.json, `${JSON.stringify(result, null, 2)}\n`);
  }
  await h.close();
  await redis.destroy();
  process.exit(pass ? 0 : 1);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
