/**
 * The webhook's persist is bounded: the queue connection waits for Redis forever (BullMQ needs that), so
 * when it has no primary (a failover, an outage) while the request connection still answers, the event is
 * refused with a 503 after `persistTimeoutMs` instead of hanging, and its id is forgotten so Telnyx's
 * redelivery is admitted once Redis is back.
 */
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { EventIngest, eventJobId } from '../../src/jobs/events/event-ingest';
import type { EventJobData } from '../../src/jobs/events/event-job';
import { AppError } from '../../src/lib/errors';
import { CallOrder } from '../../src/lib/ordering/call-order';
import { closeRedis, createRedis } from '../../src/lib/redis';
import { stateKeys } from '../../src/lib/state-keys';
import { telnyxEnvelopeSchema, type TelnyxEvent } from '../../src/lib/telnyx/webhook-event';
import { makeEvent } from '../../scripts/sim/signing';
import { freePort } from '../../scripts/sim/redis-server';
import { testRedisUrl } from '../support/test-config';

describe('event persist bound', () => {
  const prefix = `t${randomBytes(4).toString('hex')}`;
  let redis: Redis;
  let deadConn: Redis;
  let liveConn: Redis;
  let deadQueue: Queue<EventJobData>;
  let liveQueue: Queue<EventJobData>;
  let order: CallOrder;

  beforeAll(async () => {
    redis = createRedis(testRedisUrl(), 'request');
    // Nothing listens on this port: the queue connection never becomes ready.
    deadConn = createRedis(`redis://127.0.0.1:${await freePort()}`, 'bullmq');
    liveConn = createRedis(testRedisUrl(), 'bullmq');
    deadQueue = new Queue('telnyx-events', { connection: deadConn, prefix: `${prefix}:bull` });
    liveQueue = new Queue('telnyx-events', { connection: liveConn, prefix: `${prefix}:bull` });
    for (const q of [deadQueue, liveQueue]) q.on('error', () => undefined);
    order = new CallOrder(redis, stateKeys(`${prefix}:state`), { dedupeTtlSec: 60, counterTtlSec: 60 });
  });
  afterAll(async () => {
    await liveQueue.close();
    deadConn.disconnect();
    await deadQueue.close();
    await closeRedis(liveConn);
    await closeRedis(redis);
  });

  const event = (): TelnyxEvent => telnyxEnvelopeSchema.parse(makeEvent('call.hangup', { call_control_id: `v3:${randomBytes(8).toString('hex')}` })).data;

  it('answers 503 within the bound when the queue connection has no Redis, and admits the redelivery', async () => {
    const ev = event();
    const t0 = performance.now();
    const err = await new EventIngest(deadQueue, order, { persistTimeoutMs: 300 }).accept(ev).catch((e: unknown) => e);
    const ms = performance.now() - t0;
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ status: 503, code: 'event_store_unavailable' });
    expect(ms).toBeGreaterThanOrEqual(290);
    expect(ms).toBeLessThan(2000);
    // Redelivered once Redis is reachable: admitted (not a duplicate) and stored.
    await expect(new EventIngest(liveQueue, order, { persistTimeoutMs: 2000 }).accept(ev)).resolves.toBe('accepted');
    expect(await liveQueue.getJob(eventJobId(ev.id))).toBeDefined();
  });
});
