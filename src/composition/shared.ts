import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { CallBus } from '../lib/call-bus';
import { Capacity, LeaseKeeper, resolveTenantLimits } from '../lib/capacity';
import { CallAdmission } from '../lib/calls/admission';
import { CallStore } from '../lib/calls/call-store';
import type { Config } from '../lib/config';
import type { Logger } from '../lib/logger';
import type { Metrics } from '../lib/metrics';
import { CallOrder } from '../lib/ordering/call-order';
import { guardedLookup, hostsOf, type GuardedLookup } from '../lib/net/guarded-lookup';
import { createUrlPolicy, type UrlPolicy } from '../lib/net/url-policy';
import { createRedis, redisTarget, type RedisTarget } from '../lib/redis';
import { stateKeys } from '../lib/state-keys';
import type { StreamSettings } from '../lib/telnyx/stream-params';
import { TenantResolver } from '../lib/tenants/tenant-resolver';
import { CommandProducer } from '../jobs/call-control/command-producer';
import { createQueues, type Queues } from '../jobs/queues';

/** Webhook event ids are remembered a day: Telnyx redelivers failed webhooks for hours. */
const EVENT_DEDUPE_TTL_SEC = 24 * 3600;

/** What both the ingress and the worker side of an instance use. */
export interface Shared {
  instanceId: string;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  /** REDIS_URL or the sentinels: every connection of the instance is made to it. */
  redisTarget: RedisTarget;
  redis: Redis;
  bullConnection: Redis;
  queues: Queues;
  order: CallOrder;
  calls: CallStore;
  capacity: Capacity;
  leases: LeaseKeeper;
  tenants: TenantResolver;
  /** Admission of phone calls (browser calls have their own: composition/webrtc.ts). */
  admission: CallAdmission;
  /** What URLs from tenant configs and brain replies may name (TENANT_URL_ALLOWED_HOSTS). */
  urlPolicy: UrlPolicy;
  /**
   * DNS lookup of the clients that fetch tenant URLs (Whisper, Kokoro): a name resolving to an
   * internal address is refused, except the hosts of WHISPER_URL / KOKORO_URL and the allowlist.
   */
  tenantUrlLookup: GuardedLookup;
  commands: CommandProducer;
  bus: CallBus;
  stream: StreamSettings;
}

export function buildShared(config: Config, logger: Logger, metrics: Metrics, opts: { rateWindowMs?: number }): Shared {
  const target = redisTarget(config);
  const redis = createRedis(target, 'request', logger, 'request');
  const bullConnection = createRedis(target, 'bullmq', logger, 'bullmq');
  const queues = createQueues(bullConnection, config.QUEUE_PREFIX);
  metrics.watchQueues(Object.values(queues));
  const keys = stateKeys(config.STATE_PREFIX);
  // Per-call records and counters outlive the longest call by an hour, for late webhooks.
  const callTtlSec = Math.ceil(config.MAX_CALL_DURATION_MS / 1000) + 3600;
  const order = new CallOrder(redis, keys, { dedupeTtlSec: EVENT_DEDUPE_TTL_SEC, counterTtlSec: callTtlSec });
  const capacity = new Capacity({ redis, prefix: config.CAP_PREFIX, rateWindowMs: opts.rateWindowMs });
  const leaseMs = config.CAPACITY_TTL_SECONDS * 1000;
  const urlPolicy = createUrlPolicy(config.TENANT_URL_ALLOWED_HOSTS);
  const leases = new LeaseKeeper({ capacity, leaseMs, logger });
  const tenants = new TenantResolver(redis, config.TENANTMAP_PREFIX, config.TENANT_CACHE_TTL_MS, Date.now, urlPolicy);
  const phoneDefaults = { globalMax: config.GLOBAL_CONCURRENCY_CAP, tenantMax: config.TENANT_CONCURRENCY_CAP_DEFAULT, tenantPerMinute: config.TENANT_CALLS_PER_MIN_CAP_DEFAULT };
  const admission = new CallAdmission({
    line: 'phone',
    tenants,
    // Operator override keys > tenant config caps > env defaults.
    limitsFor: (tenantId, tenant) => resolveTenantLimits({ redis, tenantmapPrefix: config.TENANTMAP_PREFIX, tenantId, tenantCaps: tenant.caps, defaults: phoneDefaults }),
    capacity,
    leases,
    leaseMs,
    metrics: { denied: (reason) => metrics.capDenials.inc({ reason }), active: (n) => metrics.activeCalls.set(n) },
    logger,
  });
  return {
    instanceId: randomUUID(),
    config,
    logger,
    metrics,
    redisTarget: target,
    redis,
    bullConnection,
    queues,
    order,
    calls: new CallStore(redis, keys, callTtlSec),
    capacity,
    leases,
    tenants,
    admission,
    urlPolicy,
    tenantUrlLookup: guardedLookup({
      trustedHosts: [...hostsOf([config.WHISPER_URL, config.KOKORO_URL]), ...urlPolicy.allowedHosts.map((h) => h.host)],
    }),
    commands: new CommandProducer(queues.callControl, order),
    bus: new CallBus(redis, config.STATE_PREFIX, logger),
    stream: {
      publicBaseUrl: config.PUBLIC_BASE_URL,
      mediaStreamToken: config.MEDIA_STREAM_TOKEN,
      codec: config.TELNYX_STREAM_CODEC,
      playbackMode: config.PLAYBACK_MODE,
    },
  };
}
