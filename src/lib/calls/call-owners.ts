/**
 * Who holds each live call, and which instances are alive — the two facts a handoff and a crash
 * takeover decide on. Both live in Redis (one sorted set of owner leases, one hash of owners, one
 * sorted set of instance heartbeats), timed by Redis' own clock inside the scripts, so the instances'
 * clocks never have to agree.
 *
 * - The instance that holds a call's media stream owns the call and refreshes its lease (every
 *   leaseMs/3, all its calls in one script run).
 * - An owner that stops refreshing (crash, frozen process) lets the lease lapse; any instance's
 *   sweep then claims the call (one claimer, atomically) and re-points its stream, and whichever
 *   instance the stream lands on takes ownership.
 * - Instances announce themselves with a heartbeat; a draining instance leaves at once, so it never
 *   counts as somewhere to hand calls to.
 */
import type { Redis } from 'ioredis';
import { defineLuaCommands } from '../lua';

const SCRIPTS = {
  ownerTake: 'owner-take-2.lua',
  ownerRefresh: 'owner-refresh-2.lua',
  ownerClaim: 'owner-claim-2.lua',
  ownerRelease: 'owner-release-2.lua',
} as const;

interface OwnerCommands {
  ownerTake(leases: string, owners: string, callId: string, instanceId: string, leaseMs: number): Promise<string>;
  ownerRefresh(leases: string, owners: string, instanceId: string, leaseMs: number, ...callIds: string[]): Promise<string[]>;
  ownerClaim(leases: string, owners: string, instanceId: string, claimMs: number, limit: number): Promise<string[]>;
  ownerRelease(leases: string, owners: string, callId: string, instanceId: string): Promise<number>;
}

function defineOwnerCommands(redis: Redis): OwnerCommands {
  // __dirname works from src/ (ts) and dist/ (the build copies *.lua next to the js).
  defineLuaCommands(redis, __dirname, SCRIPTS);
  return redis as unknown as OwnerCommands;
}

export interface ClaimedCall {
  callControlId: string;
  /** The owner whose lease lapsed ("" when none was recorded; "~id" when an earlier claim lapsed). */
  previousOwner: string;
}

export class CallOwners {
  private readonly cmd: OwnerCommands;
  private readonly leasesKey: string;
  private readonly ownersKey: string;

  constructor(
    redis: Redis,
    prefix: string,
    readonly instanceId: string,
    /** How long an owner may go without refreshing before its calls are taken over. */
    readonly leaseMs: number,
  ) {
    this.cmd = defineOwnerCommands(redis);
    this.leasesKey = `${prefix}:owner-leases`;
    this.ownersKey = `${prefix}:owners`;
  }

  /** This instance holds the call's stream now; returns the previous owner ("" when none). */
  take(callControlId: string): Promise<string> {
    return this.cmd.ownerTake(this.leasesKey, this.ownersKey, callControlId, this.instanceId, this.leaseMs);
  }

  /** Extends the leases of the given calls; returns those another instance owns now. */
  async refresh(callControlIds: string[]): Promise<string[]> {
    if (callControlIds.length === 0) return [];
    return this.cmd.ownerRefresh(this.leasesKey, this.ownersKey, this.instanceId, this.leaseMs, ...callControlIds);
  }

  /** Claims up to `limit` calls whose owner lease lapsed, each for `claimMs`. */
  async claimExpired(claimMs: number, limit: number): Promise<ClaimedCall[]> {
    const flat = await this.cmd.ownerClaim(this.leasesKey, this.ownersKey, this.instanceId, claimMs, limit);
    const out: ClaimedCall[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) out.push({ callControlId: flat[i] as string, previousOwner: flat[i + 1] as string });
    return out;
  }

  /** The call ended: forget its owner. `onlyIfMine`: unless another instance owns it by now. */
  async release(callControlId: string, onlyIfMine = true): Promise<boolean> {
    return (await this.cmd.ownerRelease(this.leasesKey, this.ownersKey, callControlId, onlyIfMine ? this.instanceId : '')) === 1;
  }
}

/**
 * Instance heartbeats: a sorted set of instanceId → last beat (ms epoch of the beating instance; a
 * few seconds of skew are tolerated by the liveness window being several beats long).
 */
export class InstanceRegistry {
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    readonly instanceId: string,
    /** An instance not heard from for this long is not alive. */
    readonly aliveWindowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.key = `${prefix}:instances`;
  }

  async beat(): Promise<void> {
    const now = this.now();
    await this.redis
      .multi()
      .zadd(this.key, now, this.instanceId)
      // Long-gone instances are pruned by whoever beats.
      .zremrangebyscore(this.key, '-inf', now - 10 * this.aliveWindowMs)
      .exec();
  }

  /** Draining or stopping: not somewhere to send calls from now on. */
  async leave(): Promise<void> {
    await this.redis.zrem(this.key, this.instanceId);
  }

  /** The other instances alive now. */
  async others(): Promise<string[]> {
    const alive = await this.redis.zrangebyscore(this.key, this.now() - this.aliveWindowMs, '+inf');
    return alive.filter((id) => id !== this.instanceId);
  }
}
