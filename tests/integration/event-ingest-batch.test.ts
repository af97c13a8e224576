/**
 * Events accepted in one event-loop turn are persisted as one batch (one admit script run, one addBulk),
 * with the guarantees of one-at-a-time ingest: every accepted event is a stored job before its promise
 * resolves, a repeated event id is a duplicate (also within one batch), sequence numbers follow arrival
 * order per call, and a batch the queue could not store answers 503 for each of its events and forgets
 * their ids so the redeliveries are admitted; one event whose admit fails in Redis fails alone.
 */
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { EventIngest, eventJobId, MAX_BATCH } from '../../src/jobs/events/event-ingest';
import type { EventJobData } from '../../src/jobs/events/event-job';
import { AppError } from '../../src/lib/errors';
import { CallOrder } from '../../src/lib/ordering/call-order';
import { closeRedis, createRedis } from '../../src/lib/redis';
import { stateKeys } from '../../src/lib/state-keys';
import { telnyxEnvelopeSchema, type TelnyxEvent } from '../../src/lib/telnyx/webhook-event';
import { generateTestKeyPair, makeEvent, signEd25519 } from '../../scripts/sim/signing';
import { handleWebhook } from '../../src/api/telnyx-webhook';
import { createMetrics } from '../../src/lib/metrics';
import { createWebhookVerifier } from '../../src/lib/telnyx/webhook-verify';
import { freePort } from '../../scripts/sim/redis-server';
import { testRedisUrl } from '../support/test-config';

describe('batched event ingest', () => {
  const prefix = `t${randomBytes(4).toString('hex')}`;
  let redis: Redis;
  let liveConn: Redis;
  let deadConn: Redis;
  let queue: Queue<EventJobData>;
  let deadQueue: Queue<EventJobData>;
  let order: CallOrder;
  let ingest: EventIngest;

  beforeAll(async () => {
    redis = createRedis(testRedisUrl(), 'request');
    liveConn = createRedis(testRedisUrl(), 'bullmq');
    deadConn = createRedis(`redis://127.0.0.1:${await freePort()}`, 'bullmq');
    queue = new Queue('telnyx-events', { connection: liveConn, prefix: `${prefix}:bull` });
    deadQueue = new Queue('telnyx-events', { connection: deadConn, prefix: `${prefix}:bull` });
    for (const q of [queue, deadQueue]) q.on('error', () => undefined);
    order = new CallOrder(redis, stateKeys(`${prefix}:state`), { dedupeTtlSec: 60, counterTtlSec: 60 });
    ingest = new EventIngest(queue, order, { persistTimeoutMs: 2000 });
  });
  afterAll(async () => {
    await queue.close();
    deadConn.disconnect();
    await deadQueue.close();
    await closeRedis(liveConn);
    await closeRedis(redis);
  });

  const callId = () => `v3:${randomBytes(8).toString('hex')}`;
  const event = (type: string, call: string): TelnyxEvent => telnyxEnvelopeSchema.parse(makeEvent(type, { call_control_id: call })).data;

  it('stores a turn of events in order per call, each job present when its promise resolves', async () => {
    const calls = [callId(), callId(), callId()];
    // 2.5 batches' worth in one turn, interleaved over three calls.
    const events = Array.from({ length: Math.floor(MAX_BATCH * 2.5) }, (_, i) => event('call.hangup', calls[i % 3]!));
    const stored = await Promise.all(
      events.map((ev) => ingest.accept(ev).then(async (outcome) => ({ outcome, job: await queue.getJob(eventJobId(ev.id)) }))),
    );
    expect(stored.every((s) => s.outcome === 'accepted' && s.job !== undefined)).toBe(true);
    for (const call of calls) {
      const seqs = stored.filter((s) => s.job!.data.event.payload.call_control_id === call).map((s) => s.job!.data.seq);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    }
  });

  it('admits an event id once, within one batch and across batches', async () => {
    const ev = event('call.hangup', callId());
    const sameTurn = await Promise.all([ingest.accept(ev), ingest.accept(ev), ingest.accept(ev)]);
    expect(sameTurn.sort()).toEqual(['accepted', 'duplicate', 'duplicate']);
    await expect(ingest.accept(ev)).resolves.toBe('duplicate');
    expect((await queue.getJob(eventJobId(ev.id)))!.data.seq).toBe(1);
  });

  it('ignores unhandled event types without touching Redis', async () => {
    await expect(ingest.accept(event('call.recording.saved', callId()))).resolves.toBe('ignored');
  });

  it('answers 503 for an event whose admit failed in Redis, stores the rest of its batch, and admits its redelivery', async () => {
    const bad = callId();
    const keys = stateKeys(`${prefix}:state`);
    // A counter key of the wrong type: INCR fails for this call only.
    await redis.hset(keys.seq('ev', bad), 'x', '1');
    const events = [event('call.hangup', callId()), event('call.hangup', bad), event('call.hangup', callId())];
    const outcomes = await Promise.all(events.map((ev) => ingest.accept(ev).then((o) => o, (e: unknown) => e)));
    expect(outcomes[0]).toBe('accepted');
    expect(outcomes[1]).toMatchObject({ status: 503, code: 'event_store_unavailable' });
    expect(outcomes[2]).toBe('accepted');
    expect(await queue.getJob(eventJobId(events[1]!.id))).toBeUndefined();
    await redis.del(keys.seq('ev', bad));
    await expect(ingest.accept(events[1]!)).resolves.toBe('accepted');
    expect((await queue.getJob(eventJobId(events[1]!.id)))!.data.seq).toBe(1);
  });

  it('numbers the events of a call in the order their webhooks arrived, though the first takes far longer to verify', async () => {
    const keys = generateTestKeyPair();
    const deps = { verifier: createWebhookVerifier({ publicKeyB64: keys.publicKeyB64 }), ingest, metrics: createMetrics({ defaultMetrics: false }) };
    const call = callId();
    // The first body is 4 MB (its signature takes the thread pool milliseconds longer), the second one small.
    const first = Buffer.from(JSON.stringify(makeEvent('call.initiated', { call_control_id: call, padding: 'x'.repeat(4_000_000) })));
    const second = Buffer.from(JSON.stringify(makeEvent('call.hangup', { call_control_id: call })));
    const ids = [first, second].map((b) => (JSON.parse(b.toString()) as { data: { id: string } }).data.id);
    await expect(
      Promise.all([handleWebhook(deps, signEd25519(first, keys.privateKey), first), handleWebhook(deps, signEd25519(second, keys.privateKey), second)]),
    ).resolves.toEqual(['accepted', 'accepted']);
    const seqs = await Promise.all(ids.map(async (id) => (await queue.getJob(eventJobId(id)))!.data.seq));
    expect(seqs).toEqual([1, 2]);
  });

  it('answers 503 for every event of a batch the queue could not store, and admits their redeliveries', async () => {
    const events = [event('call.hangup', callId()), event('call.hangup', callId()), event('call.hangup', callId())];
    const dead = new EventIngest(deadQueue, order, { persistTimeoutMs: 300 });
    const errs = await Promise.all(events.map((ev) => dead.accept(ev).then(() => 'resolved', (e: unknown) => e)));
    for (const err of errs) {
      expect(err).toBeInstanceOf(AppError);
      expect(err).toMatchObject({ status: 503, code: 'event_store_unavailable' });
    }
    for (const ev of events) expect(await queue.getJob(eventJobId(ev.id))).toBeUndefined();
    await expect(Promise.all(events.map((ev) => ingest.accept(ev)))).resolves.toEqual(['accepted', 'accepted', 'accepted']);
    for (const ev of events) expect(await queue.getJob(eventJobId(ev.id))).toBeDefined();
  });
});
