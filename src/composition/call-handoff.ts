/**
 * Live calls survive this instance: handoff on deploy, takeover after a crash.
 *
 * - Every live phone call has an owner lease in Redis (lib/calls/call-owners.ts), refreshed here
 *   every leaseMs/3 for all the calls this instance holds, and a snapshot of its conversation
 *   (lib/calls/call-snapshot.ts) written at every turn boundary.
 * - **Handoff (SIGTERM):** the instance leaves the instance registry (and /health/ready says 503),
 *   then for each call waits for a quiet moment (agent listening, caller silent; at most
 *   HANDOFF_QUIET_WAIT_MS), freezes its conversation, stores the snapshot and asks Telnyx to
 *   re-point the media stream (`streaming_stop` + `streaming_start` to PUBLIC_BASE_URL, i.e. through
 *   the load balancer to a live instance). The instance the stream lands on takes ownership and the
 *   conversation goes on from the snapshot; this instance learns it from its next refresh and lets
 *   its copy go. With no other instance alive, calls are served here until they end or the drain
 *   timeout passes.
 * - **Takeover (crash):** every instance sweeps for owner leases that lapsed, claims them (one
 *   claimer per call, atomically) and re-points their streams the same way. The snapshot is the
 *   last turn boundary: a reply that was cut off is said again from its start.
 */
import { CallOwners, InstanceRegistry } from '../lib/calls/call-owners';
import { SnapshotStore, SnapshotWriter, type CallSnapshot } from '../lib/calls/call-snapshot';
import type { CallRecord } from '../lib/calls/call-store';
import { errorMessage } from '../lib/errors';
import { realTimers, type CancelTimer, type Timers } from '../lib/timers';
import type { StreamRestarter } from '../jobs/call-control/stream-restarter';
import type { Conversation, SpeechControl } from '../media/conversation/conversation';
import type { LiveCalls } from '../media/live-calls';
import type { Shared } from './shared';

/** A call waits at most this long for a quiet moment before it is handed off anyway. */
export const HANDOFF_QUIET_WAIT_MS = 2000;
/** Sweeps for calls whose owner stopped refreshing. */
const SWEEP_EVERY_MS = 1000;
/** A claimer re-points the stream; if it lands nowhere within this, the next sweep tries again. */
const CLAIM_MS = 10_000;
/** Most calls one sweep claims (a crashed instance's calls spread over the survivors' sweeps). */
const CLAIM_BATCH = 20;
/** Instance heartbeat; an instance is alive while its last beat is younger than 3 beats. */
const BEAT_EVERY_MS = 1000;
/** While draining, how often the calls left are checked. */
const DRAIN_POLL_MS = 100;
/**
 * A handed-off call whose new stream has not been taken by another instance this long after the
 * re-point is re-pointed again (the stream was refused here, or failed): at most HANDOFF_ATTEMPTS times.
 */
const HANDOFF_RETRY_MS = 2000;
const HANDOFF_ATTEMPTS = 5;

interface Tracked {
  conversation: Pick<Conversation, 'snapshot' | 'close' | 'phaseKind'>;
  speech: SpeechControl;
  writer: SnapshotWriter;
}

export interface DrainResult {
  handedOff: number;
  /** Calls still here when the drain ended (timeout). */
  left: number;
  otherInstances: number;
}

export class CallHandoff {
  private readonly owners: CallOwners;
  private readonly instances: InstanceRegistry;
  private readonly snapshots: SnapshotStore;
  /** Snapshots of calls that moved here, until their conversation is built. */
  private readonly resumable = new Map<string, CallSnapshot>();
  private readonly tracked = new Map<string, Tracked>();
  /** Calls this instance took ownership of and has not let go. */
  private readonly owned = new Set<string>();
  /** Calls being handed off: when their stream was last re-pointed, and how often. */
  private readonly handingOff = new Map<string, { at: number; attempts: number }>();
  /** Other instances were alive when the drain began: new streams go to them, not here. */
  private handingOver = false;
  private readonly stops: CancelTimer[] = [];
  private draining = false;
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly s: Shared,
    private readonly liveCalls: LiveCalls,
    private readonly restarter: Pick<StreamRestarter, 'restart'>,
    private readonly timers: Timers = realTimers,
  ) {
    const { redis, config, instanceId } = s;
    const leaseMs = config.CALL_OWNER_LEASE_MS;
    this.owners = new CallOwners(redis, config.STATE_PREFIX, instanceId, leaseMs);
    this.instances = new InstanceRegistry(redis, config.STATE_PREFIX, instanceId, 3 * BEAT_EVERY_MS);
    this.snapshots = new SnapshotStore(redis, config.STATE_PREFIX, Math.ceil(config.MAX_CALL_DURATION_MS / 1000) + 600);
  }

  start(): void {
    const guard = (what: string, fn: () => Promise<unknown>) => () => {
      fn().catch((err: unknown) => this.s.logger.warn({ err: errorMessage(err) }, `${what} failed`));
    };
    this.stops.push(this.timers.every(BEAT_EVERY_MS, guard('instance heartbeat', () => (this.draining ? Promise.resolve() : this.instances.beat()))));
    this.stops.push(this.timers.every(Math.max(100, Math.floor(this.owners.leaseMs / 3)), guard('owner lease refresh', () => this.refresh())));
    this.stops.push(this.timers.every(SWEEP_EVERY_MS, guard('owner sweep', () => this.sweep())));
    void guard('instance heartbeat', () => this.instances.beat())();
    // Back from a Redis outage or failover: refresh at once, before another instance's sweep finds the leases lapsed.
    const onReady = guard('owner lease refresh', () => this.refresh());
    this.s.redis.on('ready', onReady);
    this.stops.push(() => this.s.redis.off('ready', onReady));
  }

  stop(): void {
    for (const stop of this.stops.splice(0)) stop();
  }

  /**
   * A media stream for `call` connected here (src/api/media-ws.ts prepareCall): take ownership, and
   * if the call comes from another instance, its snapshot and its capacity lease.
   */
  async adopt(call: CallRecord): Promise<void> {
    const id = call.callControlId;
    const previous = await this.owners.take(id);
    this.owned.add(id);
    if (!previous || previous === this.s.instanceId) return;
    const snap = await this.snapshots.load(id);
    if (snap) this.resumable.set(id, snap);
    // The capacity lease is kept by the call's owner: refreshing it from here keeps the slot counted.
    if (call.capHeld && call.tenantId && !this.s.leases.has(id)) {
      this.s.leases.add(id, call.tenantId);
      await this.s.calls.update(id, { owner: this.s.instanceId });
    }
    this.s.metrics.callHandoffs.inc({ outcome: previous.startsWith('~') ? 'taken_over' : 'received' });
    this.s.logger.info({ callControlId: id, from: previous, resumed: snap !== undefined }, 'call moved to this instance');
  }

  /**
   * Builds a call's conversation with what a handoff needs (the conversation factory calls it): the
   * snapshot to resume from when the call moved here, and a checkpoint that stores its snapshots. The
   * conversation is kept so a drain can snapshot and freeze it.
   */
  conversation<C extends Tracked['conversation']>(
    callControlId: string,
    speech: SpeechControl,
    build: (hooks: { resumeFrom?: CallSnapshot; checkpoint(snap: CallSnapshot): void }) => C,
  ): C {
    const resumeFrom = this.resumable.get(callControlId);
    this.resumable.delete(callControlId);
    const writer = new SnapshotWriter(this.snapshots, callControlId, (err) =>
      this.s.logger.warn({ callControlId, err: errorMessage(err) }, 'call snapshot not stored'),
    );
    const conversation = build({ resumeFrom, checkpoint: (snap) => writer.write(snap) });
    this.tracked.set(callControlId, { conversation, speech, writer });
    return conversation;
  }

  /** A media stream may be attached here (false while handing calls to other instances). */
  get acceptsStreams(): boolean {
    return !this.handingOver;
  }

  /**
   * SIGTERM: hand every live call to another instance if one is alive, then wait (at most
   * `timeoutMs`) until no call is left here.
   */
  async drain(timeoutMs: number): Promise<DrainResult> {
    this.draining = true;
    await this.instances.leave().catch(() => undefined);
    const others = await this.instances.others().catch(() => [] as string[]);
    this.handingOver = others.length > 0;
    const deadline = this.timers.now() + timeoutMs;
    // Let the load balancer see /health/ready turn 503 first: then the moved streams go elsewhere at once.
    const delay = Math.min(this.s.config.DRAIN_HANDOFF_DELAY_MS, timeoutMs);
    if (this.handingOver && delay > 0 && this.liveCalls.size > 0) await new Promise<void>((resolve) => this.timers.after(delay, resolve));
    let handedOff = 0;
    const handoffs: Promise<void>[] = [];
    while (this.liveCalls.size > 0 && this.timers.now() < deadline) {
      if (this.handingOver) {
        const now = this.timers.now();
        for (const id of this.liveCalls.ids()) {
          const h = this.handingOff.get(id);
          if (!h) {
            this.handingOff.set(id, { at: Infinity, attempts: 1 });
            handedOff += 1;
            handoffs.push(this.handOff(id));
          } else if (now - h.at > HANDOFF_RETRY_MS && h.attempts < HANDOFF_ATTEMPTS && this.owned.has(id)) {
            // Still ours: the new stream did not land on another instance. Point it at the load balancer again.
            h.attempts += 1;
            h.at = Infinity;
            handoffs.push(this.repoint(id));
          }
        }
      }
      await this.refresh().catch(() => undefined);
      await new Promise<void>((resolve) => this.timers.after(DRAIN_POLL_MS, resolve));
    }
    await Promise.allSettled(handoffs);
    return { handedOff, left: this.liveCalls.size, otherInstances: others.length };
  }

  private async handOff(id: string): Promise<void> {
    const t = this.tracked.get(id);
    try {
      if (t) {
        const quietBy = this.timers.now() + HANDOFF_QUIET_WAIT_MS;
        while (this.timers.now() < quietBy && !(t.conversation.phaseKind === 'listening' && !t.speech.inSpeech())) {
          await new Promise<void>((resolve) => this.timers.after(50, resolve));
        }
        const snap = t.conversation.snapshot();
        // Frozen from here: nothing this copy does now would be in the snapshot.
        t.conversation.close();
        await t.writer.flush();
        await this.snapshots.save(id, snap);
      }
    } catch (err) {
      this.s.logger.error({ callControlId: id, err: errorMessage(err) }, 'call snapshot for the handoff failed; re-pointing anyway');
    }
    await this.repoint(id);
  }

  /** Asks Telnyx to move the call's stream to PUBLIC_BASE_URL (the load balancer). */
  private async repoint(id: string): Promise<void> {
    const h = this.handingOff.get(id);
    try {
      await this.restarter.restart(id, this.s.stream.codec);
      this.s.metrics.callHandoffs.inc({ outcome: 'sent' });
      this.s.logger.info({ callControlId: id, attempt: h?.attempts }, 'call handed off: stream re-pointed to the load balancer');
    } catch (err) {
      this.s.metrics.callHandoffs.inc({ outcome: 'failed' });
      this.s.logger.error({ callControlId: id, err: errorMessage(err) }, 'call handoff failed');
    } finally {
      if (h) h.at = this.timers.now();
    }
  }

  /** One owner-lease round: refresh the calls held here, let go of those that ended or moved. */
  refresh(): Promise<void> {
    this.refreshing ??= this.refreshRound().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async refreshRound(): Promise<void> {
    const live: string[] = [];
    for (const id of [...this.owned]) {
      if (this.liveCalls.get(id)) {
        live.push(id);
        continue;
      }
      // The call ended here (hangup, or its stream never came back): forget it, unless it was handed off
      // (the new owner has taken it, or will).
      this.forget(id);
      if (this.handingOff.delete(id)) continue;
      await this.owners.release(id);
      await this.snapshots.delete(id);
    }
    for (const id of await this.owners.refresh(live)) {
      // Another instance holds the call's stream now: this copy is stale.
      this.forget(id);
      this.handingOff.delete(id);
      this.liveCalls.get(id)?.end({ code: 1000, reason: 'call moved to another instance' });
    }
  }

  private forget(id: string): void {
    this.owned.delete(id);
    this.tracked.delete(id);
    this.resumable.delete(id);
  }

  /** Claims calls whose owner stopped refreshing and re-points their streams. */
  private async sweep(): Promise<void> {
    if (this.draining) return;
    for (const { callControlId: id, previousOwner } of await this.owners.claimExpired(CLAIM_MS, CLAIM_BATCH)) {
      const call = await this.s.calls.get(id);
      if (!call || call.phase === 'ended') {
        await this.owners.release(id, false);
        await this.snapshots.delete(id);
        continue;
      }
      if (this.liveCalls.get(id)) {
        // Ours after all (a refresh came too late, e.g. a long event-loop stall): keep it.
        await this.owners.take(id);
        this.owned.add(id);
        continue;
      }
      this.s.metrics.callHandoffs.inc({ outcome: 'claimed' });
      this.s.logger.warn({ callControlId: id, previousOwner }, 'call owner stopped refreshing: re-pointing the stream');
      await this.restarter.restart(id, this.s.stream.codec);
    }
  }
}
