/**
 * Call Control through a Telnyx API outage (real runtime, real Redis, signed webhooks, the fake
 * Call Control API switched down and back up): calls that came in during the outage are all
 * answered once it is over, each command keeps one command_id across its attempts, and an answer
 * that fails for good leaves no capacity slot held.
 */
import { RETRY_BUDGETS } from '../../src/jobs/call-control/command-deadlines';
import { CommandProducer } from '../../src/jobs/call-control/command-producer';
import { CallOrder } from '../../src/lib/ordering/call-order';
import { stateKeys } from '../../src/lib/state-keys';
import type { Runtime } from '../../src/runtime';
import type { RecordedCommand } from '../fakes/fake-telnyx-api';
import { createHarness, http, newCallControlId, tenantDoc, waitUntil, type Harness } from '../support/call-harness';

const OUTAGE_MS = 10_000;

describe('Telnyx Call Control API outage', () => {
  let h: Harness;
  let rt: Runtime;
  beforeAll(async () => {
    h = await createHarness({ GLOBAL_CONCURRENCY_CAP: '50', TENANT_CONCURRENCY_CAP_DEFAULT: '20' });
    rt = await h.start();
  });
  afterAll(() => h.close());
  afterEach(() => h.telnyx.up());

  const order = () => new CallOrder(h.redis, stateKeys(rt.config.STATE_PREFIX), { dedupeTtlSec: 3600, counterTtlSec: 3600 });
  const producer = () => new CommandProducer(rt.queues.callControl, order());
  const answered = (callId: string) => (c: RecordedCommand) => c.callControlId === callId && c.action === 'answer' && c.status === 200;
  const activeLeases = async () => Number(/^active_calls (\d+)/m.exec((await http.get(`${rt.url}/metrics`)).data as string)?.[1]);

  it('answers every call that rang through a 10 s outage once the API is back, one command_id per command', async () => {
    const tenantId = 'tenant-outage';
    const did = '+15550101010';
    await h.seedTenant(tenantId, did, tenantDoc(tenantId, did));
    const calls = Array.from({ length: 5 }, () => newCallControlId());

    // First half of the outage: Telnyx answers 503 (every attempt is recorded)...
    await h.telnyx.down(503);
    const downAt = performance.now();
    for (const id of calls) expect((await h.send(rt, 'call.initiated', id, { to: did })).data.outcome).toBe('accepted');
    // ...until each call's answer has been refused at least twice (the runtime is retrying)...
    await Promise.all(calls.map((id) => waitUntil(() => h.telnyx.commands('answer', id).length >= 2, OUTAGE_MS)));
    await waitUntil(() => performance.now() - downAt >= OUTAGE_MS / 2, OUTAGE_MS, 50);
    // ...second half: nothing listens (connection refused).
    await h.telnyx.down('refused');
    expect((await rt.capacity.usage(tenantId)).tenant).toBe(5); // the ringing calls keep their slots
    await waitUntil(() => performance.now() - downAt >= OUTAGE_MS, OUTAGE_MS, 50);

    await h.telnyx.up();
    const upAt = performance.now();
    const answers = await Promise.all(calls.map((id) => h.telnyx.waitFor(answered(id), 15_000)));
    const lastAnswerMs = Math.max(...answers.map((a) => a.at)) - upAt;
    // The answer's backoff is capped at 2 s: the last caller waits about that much after recovery, not 10 s.
    expect(lastAnswerMs).toBeLessThan(6_000);

    for (const id of calls) {
      const attempts = h.telnyx.commands('answer', id);
      expect(attempts.filter((a) => a.status === 200)).toHaveLength(1);
      expect(attempts.filter((a) => a.status === 503).length).toBeGreaterThanOrEqual(2);
      expect(new Set(attempts.map((a) => a.body.command_id)).size).toBe(1);
      expect((await rt.calls.get(id))?.phase).toBe('answering');
    }
    // No answer left to run (nothing retried twice, nothing stuck behind an answer).
    await waitUntil(async () => (await rt.queues.callControl.getJobCounts('waiting', 'delayed', 'active')).delayed === 0);
    const counts = await rt.queues.callControl.getJobCounts('waiting', 'delayed', 'active');
    expect(counts).toEqual({ waiting: 0, delayed: 0, active: 0 });

    for (const id of calls) await h.send(rt, 'call.hangup', id, { to: did, hangup_cause: 'normal_clearing' });
    await waitUntil(async () => (await rt.capacity.usage(tenantId)).tenant === 0);
    expect(calls.every((id) => h.telnyx.commands('answer', id).filter((a) => a.status === 200).length === 1)).toBe(true);
  }, 60_000);

  it('keeps a call\'s command order: a hangup issued behind a retrying answer waits for it', async () => {
    const tenantId = 'tenant-order';
    const did = '+15550202020';
    await h.seedTenant(tenantId, did, tenantDoc(tenantId, did));
    const callId = newCallControlId();
    // One 503 asking for 2 s (Retry-After is a floor): the answer is retried after at least 2 s.
    h.telnyx.failNext('answer', { status: 503, retryAfterSec: 2 });
    await h.send(rt, 'call.initiated', callId, { to: did });
    await h.telnyx.waitFor((c) => c.callControlId === callId && c.action === 'answer');
    // A hangup in the call's command order, behind the answer that is still being retried.
    await producer().issue(callId, 'hangup');
    const hangup = await h.telnyx.waitFor((c) => c.callControlId === callId && c.action === 'hangup', 20_000);
    const answer = h.telnyx.commands('answer', callId).find((c) => c.status === 200);
    expect(answer).toBeDefined();
    expect(hangup.at).toBeGreaterThan(answer!.at);
    // The answer took longer than the in-process wait: the hangup stepped aside and came back.
    expect(answer!.at - h.telnyx.commands('answer', callId)[0]!.at).toBeGreaterThanOrEqual(1_950);
    expect(h.telnyx.commands('answer', callId).filter((c) => c.status === 200)).toHaveLength(1);
    await h.send(rt, 'call.hangup', callId, { to: did });
    await waitUntil(async () => (await rt.capacity.usage(tenantId)).tenant === 0);
  }, 40_000);

  it('does not wait for a predecessor that was never enqueued (a crash between taking its place and enqueueing)', async () => {
    const callId = newCallControlId();
    await order().next('cmd', callId); // place 1 taken, its job never added
    const t0 = performance.now();
    await producer().issue(callId, 'hangup'); // place 2
    const hangup = await h.telnyx.waitFor((c) => c.callControlId === callId && c.action === 'hangup', 10_000);
    // One in-process wait (1 s), then the missing job is noticed: not the 5 minutes a live predecessor may take.
    expect(hangup.at - t0).toBeGreaterThanOrEqual(900);
    expect(hangup.at - t0).toBeLessThan(5_000);
  });

  it('an answer that fails for good ends the call: slot and lease released, hangup attempted', async () => {
    const tenantId = 'tenant-failed-answer';
    const did = '+15550303030';
    await h.seedTenant(tenantId, did, tenantDoc(tenantId, did));
    const before = await activeLeases();
    const callId = newCallControlId();
    h.telnyx.failNext('answer', { status: 400 }); // a rejection never heals: no retry
    await h.send(rt, 'call.initiated', callId, { to: did });
    await h.telnyx.waitFor((c) => c.callControlId === callId && c.action === 'hangup', 10_000);
    expect((await rt.capacity.usage(tenantId)).tenant).toBe(0);
    expect(await activeLeases()).toBe(before);
    expect(await rt.calls.get(callId)).toMatchObject({ phase: 'ended', reason: 'answer_failed', capHeld: false });
    expect(h.telnyx.commands('answer', callId)).toHaveLength(1);
    // The call's command order moved on: nothing waits behind the failed answer.
    await waitUntil(async () => (await rt.queues.callControl.getJobCounts('waiting', 'delayed', 'active')).delayed === 0);
  });
});

describe('an answer past its deadline (Telnyx down longer than the caller rings)', () => {
  let h: Harness;
  let rt: Runtime;
  // The answer's budget shortened to 3 s so the test does not wait the real 120 s.
  const budgets = { ...RETRY_BUDGETS, answer: { deadlineMs: 3_000, backoffCapMs: 200 } };
  beforeAll(async () => {
    h = await createHarness();
    rt = await h.start({}, { commandBudgets: budgets });
  });
  afterAll(() => h.close());

  it('gives up at the deadline, releases the slot and lease, ends the call, and hangs up once Telnyx is back', async () => {
    const tenantId = 'tenant-deadline';
    const did = '+15550404040';
    await h.seedTenant(tenantId, did, tenantDoc(tenantId, did));
    const callId = newCallControlId();
    await h.telnyx.down(503);
    await h.send(rt, 'call.initiated', callId, { to: did });
    await h.telnyx.waitFor((c) => c.callControlId === callId && c.action === 'answer');
    expect((await rt.capacity.usage(tenantId)).tenant).toBe(1); // admitted, ringing
    await waitUntil(async () => (await rt.calls.get(callId))?.phase === 'ended', 10_000);
    expect(await rt.calls.get(callId)).toMatchObject({ reason: 'answer_failed', capHeld: false });
    expect((await rt.capacity.usage(tenantId)).tenant).toBe(0);
    const metrics = (await http.get(`${rt.url}/metrics`)).data as string;
    expect(metrics).toMatch(/^active_calls 0$/m);
    expect(metrics).toMatch(/telnyx_command_failures_total\{action="answer",reason="telnyx_server_error"\} 1/);

    const answers = h.telnyx.commands('answer', callId);
    expect(answers.length).toBeGreaterThanOrEqual(3);
    expect(answers.every((a) => a.status === 503)).toBe(true);
    // Retried until about the deadline (not a fixed count), then no more: the last attempt is brought
    // forward to the deadline; queue scheduling on a loaded machine may add a little to it.
    const span = answers.at(-1)!.at - answers[0]!.at;
    // (Six attempts at most 200 ms apart, the old fixed count, would span at most 1 s.)
    expect(span).toBeGreaterThanOrEqual(budgets.answer.deadlineMs / 2);
    expect(span).toBeLessThan(budgets.answer.deadlineMs + 3_000);

    // The hangup keeps trying (minutes) and goes through when Telnyx is back, under one command_id.
    await h.telnyx.waitFor((c) => c.callControlId === callId && c.action === 'hangup', 10_000);
    await h.telnyx.up();
    await h.telnyx.waitFor((c) => c.callControlId === callId && c.action === 'hangup' && c.status === 200, 15_000);
    const hangups = h.telnyx.commands('hangup', callId);
    expect(new Set(hangups.map((c) => c.body.command_id)).size).toBe(1);
    expect(h.telnyx.commands('answer', callId)).toHaveLength(answers.length);
  });
});
